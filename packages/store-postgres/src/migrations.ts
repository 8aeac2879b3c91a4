/**
 * Versioned schema migrations, applied on open in one transaction that first takes a transaction-scoped advisory
 * lock on a fixed key: the first process applies what is missing, any other waits for it to commit and then finds
 * nothing to do. Safe to run twice and from several processes at once. Never edit a released migration: add the
 * next one. Each migration runs with `search_path` set to the store's schema, so its SQL names tables unqualified.
 */
import { MigrationRefusedError, NotAStoreError, SchemaTooNewError } from '@hotpatch/store';
import { InvalidSchemaNameError } from './errors.js';
import type { ClientBase } from 'pg';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** Runs before `sql`, in the same transaction: throws when the data cannot take the migration (nothing is changed). */
  readonly check?: (client: ClientBase, schema: string) => Promise<void>;
}

/** The advisory lock every hotpatch migration takes (any schema): "hotpatch" in ASCII as a bigint. */
export const MIGRATION_LOCK_KEY = 0x686f747061746368n;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, log head, streams, snapshots, checkpoints',
    sql: `
      -- position: the public global position, gap-free and in commit order (see the README's Global order).
      -- global_position and transaction_id: insertion order and the writing transaction, for diagnostics and for
      -- readers that use the xid8 technique; the store itself orders by position.
      CREATE TABLE events (
        position        bigint  NOT NULL,
        global_position bigint  GENERATED ALWAYS AS IDENTITY,
        transaction_id  xid8    NOT NULL DEFAULT pg_current_xact_id(),
        stream          text    NOT NULL,
        version         integer NOT NULL,
        id              text    NOT NULL,
        type            text    NOT NULL,
        time            text    NOT NULL,
        data            json    NOT NULL,
        meta            json,
        hash            text    NOT NULL,
        CONSTRAINT events_pkey PRIMARY KEY (position),
        CONSTRAINT events_stream_version UNIQUE (stream, version),
        CONSTRAINT events_stream_id UNIQUE (stream, id)
      );
      -- The last position handed out. Its row lock, taken by the last statement of every append and held until
      -- commit, is what makes positions commit-ordered.
      CREATE TABLE log_head (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        position  bigint  NOT NULL
      );
      INSERT INTO log_head (position) VALUES (0);
      CREATE TABLE streams (
        stream  text    PRIMARY KEY,
        version integer NOT NULL,
        hash    text    NOT NULL
      );
      CREATE TABLE snapshots (
        stream  text    PRIMARY KEY,
        version integer NOT NULL,
        machine text    NOT NULL,
        state   json    NOT NULL
      );
      CREATE TABLE checkpoints (
        consumer text        PRIMARY KEY,
        position bigint      NOT NULL,
        updated  timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: 'projections',
    sql: `
      CREATE TABLE projections (
        name     text        PRIMARY KEY,
        position bigint      NOT NULL,
        data     text        NOT NULL,
        updated  timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 3,
    name: 'projection parts',
    // A projection saved in parts: the first in projections.data, the others here (part 1, 2, …), under the
    // position they were saved at (a save deletes the parts of older positions).
    sql: `
      CREATE TABLE projection_parts (
        name     text    NOT NULL,
        position bigint  NOT NULL,
        part     integer NOT NULL,
        data     text    NOT NULL,
        PRIMARY KEY (name, position, part)
      );
    `,
  },
  {
    version: 4,
    name: 'event ids unique across the log; stream names and ids compared byte by byte',
    // An id was unique per stream only, so a batch could reuse another stream's id, and the log then failed
    // verify. The check names any id held twice before the constraint would refuse it with a bare error.
    // Stream names and ids are compared in the "C" collation (bytes, as SQLite and the JSONL tools order them):
    // the database's locale collation cost the server about 6% of its time in strcoll on appends, and a name's
    // identity never depended on it. The indexes on them are rebuilt.
    check: async (client, schema) => {
      const { rows } = await client.query<{ id: string; streams: string }>(
        "SELECT id, string_agg(stream || ' v' || version, ', ' ORDER BY stream, version) AS streams FROM events GROUP BY id HAVING count(*) > 1 ORDER BY id LIMIT 5",
      );
      if (rows.length > 0) {
        throw new MigrationRefusedError(
          `PostgreSQL schema ${schema}`,
          4,
          `event ids must be unique across the log, and these are held more than once: ${rows.map((r) => `${r.id} (${r.streams})`).join('; ')}. Export the log, remove or re-id the copies, and import it into a new schema`,
        );
      }
    },
    sql: `
      ALTER TABLE events DROP CONSTRAINT events_stream_id;
      ALTER TABLE events ALTER COLUMN stream TYPE text COLLATE "C", ALTER COLUMN id TYPE text COLLATE "C";
      ALTER TABLE events ADD CONSTRAINT events_id UNIQUE (id);
      ALTER TABLE streams ALTER COLUMN stream TYPE text COLLATE "C";
      ALTER TABLE snapshots ALTER COLUMN stream TYPE text COLLATE "C";
    `,
  },
  {
    version: 5,
    name: 'leases',
    // Leases held by service instances (a tenant's orchestration, an instance's own liveness): who holds each, until
    // when by the server's clock, and the epoch (fencing token), which moves each time the lease changes hands.
    sql: `
      CREATE TABLE leases (
        name       text COLLATE "C" PRIMARY KEY,
        owner      text        NOT NULL,
        epoch      bigint      NOT NULL,
        expires_at timestamptz NOT NULL
      );
    `,
  },
];

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

/** Checks a schema name (lower case letters, digits and _, at most 48 characters) and returns it quoted. */
export function quoteSchema(schema: string): string {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) throw new InvalidSchemaNameError(schema);
  return `"${schema}"`;
}

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Applies the missing migrations to `schema` (created if missing); returns the versions it applied. */
export async function migrate(client: ClientBase, schema: string, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const quoted = quoteSchema(schema);
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    // A schema that holds tables of its own and none of hotpatch's is someone else's: refused, unchanged.
    const { rows: found } = await client.query<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [schema]);
    const names = found.map((r) => r.name);
    if (names.length > 0 && !names.includes('schema_migrations')) {
      throw new NotAStoreError(`PostgreSQL schema ${schema}`, `holds tables of its own (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}) and none of hotpatch's: not a hotpatch store`);
    }
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
    const current = rows[0]!.v;
    const newest = migrations.at(-1)?.version ?? 0;
    if (current > newest) throw new SchemaTooNewError(`PostgreSQL schema ${schema}`, current, newest);
    for (const m of migrations) {
      if (m.version <= current) continue;
      await m.check?.(client, schema);
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return applied;
}
