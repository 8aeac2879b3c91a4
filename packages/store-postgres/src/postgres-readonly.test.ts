/**
 * A PostgreSQL store opened read-only: it never creates or migrates a schema, its sessions are read-only at the
 * server, it refuses a schema that holds no store or one of another version; and a server that cannot be used gives
 * a typed error naming the server, the database and the role.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, NotAStoreError, SchemaNotMigratedError, SchemaTooNewError, StoreReadOnlyError } from '@hotpatch/store';
import { events } from '@hotpatch/store/conformance';
import { createPostgresEventStore } from './postgres-store.js';
import { InvalidSchemaNameError } from './errors.js';
import { SCHEMA_VERSION } from './migrations.js';
import { admin, dropAll, newSchema, url } from '../test/helpers.js';

const open = (schema: string, options: Partial<Parameters<typeof createPostgresEventStore>[0]> = {}) => createPostgresEventStore({ connectionString: url!, schema, max: 2, ...options });
const schemaExists = async (schema: string) => (await admin().query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

describe.skipIf(!url)('a PostgreSQL store opened read-only', () => {
  afterAll(dropAll);
  const server = () => {
    const u = new URL(url!);
    return `PostgreSQL database ${u.pathname.slice(1)} at ${u.hostname}:${u.port || 5432} as ${u.username}`;
  };

  it('refuses a schema that holds no store, creating nothing, and a schema of another version', async () => {
    const absent = newSchema();
    const error = await open(absent, { readonly: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotAStoreError);
    expect((error as Error).message).toBe(`${server()}: no hotpatch store in schema ${absent}: there is no such schema`);
    expect(await schemaExists(absent)).toBe(false);
    const bare = newSchema();
    await admin().query(`CREATE SCHEMA "${bare}"`);
    await expect(open(bare, { readonly: true })).rejects.toThrow(`${server()}: no hotpatch store in schema ${bare}: the schema exists but holds no hotpatch tables`);
    expect((await admin().query('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1', [bare])).rows[0].n).toBe(0);
    const newer = newSchema();
    await (await open(newer)).close();
    await admin().query(`INSERT INTO "${newer}".schema_migrations (version, name) VALUES (99, 'future')`);
    await expect(open(newer, { readonly: true })).rejects.toThrow(SchemaTooNewError);
    const older = newSchema();
    await (await open(older)).close();
    await admin().query(`DELETE FROM "${older}".schema_migrations WHERE version = ${SCHEMA_VERSION}`);
    await expect(open(older, { readonly: true })).rejects.toThrow(SchemaNotMigratedError);
    expect((await admin().query(`SELECT max(version) AS v FROM "${older}".schema_migrations`)).rows[0].v).toBe(SCHEMA_VERSION - 1);
  });

  it('reads without writing: writes refused by the store and by the server, a stale snapshot left for a writer, no wait on a writer', async () => {
    const schema = newSchema();
    const writer = await open(schema);
    const stream = 'device/read-only';
    await writer.appendToStream(stream, [events.enrolled()]);
    await writer.appendToStream(stream, [events.assessed()]);
    // Make the snapshot stale: a read folds the event after it, and a writer would write it again.
    await admin().query(`UPDATE "${schema}".snapshots SET version = 1, state = (SELECT state FROM "${schema}".snapshots WHERE stream = $1) WHERE stream = $1`, [stream]);
    const reader = await open(schema, { readonly: true });
    try {
      // A writer holds the log head (mid-append, in a transaction) meanwhile: readers do not wait for it.
      const holder = await admin().connect();
      await holder.query('BEGIN');
      await holder.query(`UPDATE "${schema}".log_head SET position = position`);
      try {
        expect((await reader.readAll()).map((e) => e.type)).toEqual(['DeviceEnrolled', 'EligibilityAssessed']);
        expect(await reader.readState(stream)).toMatchObject({ version: 2, snapshotVersion: 1, eventsFolded: 1 });
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      expect((await admin().query(`SELECT version FROM "${schema}".snapshots WHERE stream = $1`, [stream])).rows[0].version).toBe(1);
      await expect(reader.appendToStream(stream, [events.staged()])).rejects.toThrow(StoreReadOnlyError);
      await expect(reader.saveCheckpoint('c', 0, 1)).rejects.toThrow(StoreReadOnlyError);
      await expect(reader.saveProjection('p', 1, 'x')).rejects.toThrow(StoreReadOnlyError);
      // The server refuses a write on its connections too.
      await expect(reader.pool.query(`INSERT INTO "${schema}".checkpoints (consumer, position) VALUES ('c', 1)`)).rejects.toMatchObject({ code: '25006' });
      // Even when the connection string carries startup options of its own (they would replace ours).
      const withOptions = new URL(url!);
      withOptions.searchParams.set('options', '-c application_name=reader');
      const other = await createPostgresEventStore({ connectionString: withOptions.toString(), schema, readonly: true, max: 2 });
      try {
        await expect(other.pool.query(`INSERT INTO "${schema}".checkpoints (consumer, position) VALUES ('c', 1)`)).rejects.toMatchObject({ code: '25006' });
      } finally {
        await other.close();
      }
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('names what it could not reach: an unknown host, a refused port, an unknown role or database, a bad schema name', async () => {
    const at = (change: (u: URL) => void) => {
      const u = new URL(url!);
      change(u);
      return u.toString();
    };
    for (const [connectionString, message] of [
      [at((u) => (u.hostname = 'no-such-host.invalid')), / at no-such-host\.invalid:\d+ as \w+: cannot connect: unknown host$/],
      [at((u) => (u.port = '1')), / at [\w.]+:1 as \w+: cannot connect: connection refused: is PostgreSQL running there, on that port\?$/],
      [at((u) => (u.username = 'no_such_role')), / as no_such_role: cannot connect: role "no_such_role" does not exist$/],
      [at((u) => (u.pathname = '/no_such_database')), /^PostgreSQL database no_such_database at [\w.]+:\d+ as \w+: cannot connect: database "no_such_database" does not exist$/],
    ] as const) {
      for (const readonly of [false, true]) {
        const error = await createPostgresEventStore({ connectionString, readonly }).catch((e: unknown) => e);
        expect(error, connectionString).toBeInstanceOf(DatabaseUnavailableError);
        expect((error as Error).message, connectionString).toMatch(message);
      }
    }
    await expect(open('Bad-Name')).rejects.toThrow(InvalidSchemaNameError);
  });
});
