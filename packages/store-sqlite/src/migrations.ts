/**
 * Versioned schema migrations, applied on open inside one immediate transaction: the first process to take the
 * write lock applies what is missing, any other waits (busy_timeout) and then finds nothing to do. Safe to run
 * twice and from two processes at once. Never edit a released migration: add the next one.
 */
import { MigrationRefusedError, SchemaTooNewError } from '@hotpatch/store';
import type { Database as SqliteDatabase } from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** Runs before `sql`, in the same transaction: throws when the data cannot take the migration (nothing is changed). */
  readonly check?: (db: SqliteDatabase) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, streams, snapshots, checkpoints',
    sql: `
      CREATE TABLE events (
        position INTEGER PRIMARY KEY,
        stream   TEXT    NOT NULL,
        version  INTEGER NOT NULL,
        id       TEXT    NOT NULL,
        type     TEXT    NOT NULL,
        time     TEXT    NOT NULL,
        data     TEXT    NOT NULL,
        meta     TEXT,
        hash     TEXT    NOT NULL
      );
      CREATE UNIQUE INDEX events_stream_version ON events (stream, version);
      CREATE UNIQUE INDEX events_stream_id ON events (stream, id);
      CREATE TABLE streams (
        stream  TEXT    PRIMARY KEY,
        version INTEGER NOT NULL,
        hash    TEXT    NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE snapshots (
        stream  TEXT    PRIMARY KEY,
        version INTEGER NOT NULL,
        machine TEXT    NOT NULL,
        state   TEXT    NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE checkpoints (
        consumer TEXT    PRIMARY KEY,
        position INTEGER NOT NULL,
        updated  TEXT    NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'projections',
    sql: `
      CREATE TABLE projections (
        name     TEXT    PRIMARY KEY,
        position INTEGER NOT NULL,
        data     TEXT    NOT NULL,
        updated  TEXT    NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'projection parts',
    // A projection saved in parts: the first in projections.data, the others here (part 1, 2, …).
    sql: `
      CREATE TABLE projection_parts (
        name TEXT    NOT NULL,
        part INTEGER NOT NULL,
        data TEXT    NOT NULL,
        PRIMARY KEY (name, part)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'event ids unique across the log',
    // An id was unique per stream only, so a batch could reuse another stream's id, and the log then failed
    // verify. The check names any id held twice before the index would refuse it with a bare constraint error.
    check: (db) => {
      const twice = db
        .prepare<[], { id: string; streams: string }>("SELECT id, group_concat(stream || ' v' || version, ', ') AS streams FROM events GROUP BY id HAVING COUNT(*) > 1 LIMIT 5")
        .all();
      if (twice.length > 0) {
        throw new MigrationRefusedError(
          db.name,
          4,
          `event ids must be unique across the log, and these are held more than once: ${twice.map((t) => `${t.id} (${t.streams})`).join('; ')}. Export the log, remove or re-id the copies, and import it into a new database`,
        );
      }
    },
    sql: `
      CREATE UNIQUE INDEX events_id ON events (id);
      DROP INDEX events_stream_id;
    `,
  },
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/**
 * Applies the missing migrations; returns the versions it applied (empty when the schema was up to date). A schema
 * found up to date by a plain read is left without taking the write lock: a writer opening the file while another
 * process holds the lock (a long import) waits only when it writes.
 */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const newest = migrations.at(-1)?.version ?? 0;
  const version = () => (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined) {
    const found = version();
    if (found > newest) throw new SchemaTooNewError(db.name, found, newest);
    if (found === newest) return [];
  }
  const applied: number[] = [];
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const current = version();
    if (current > newest) throw new SchemaTooNewError(db.name, current, newest);
    for (const m of migrations) {
      if (m.version <= current) continue;
      m.check?.(db);
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      applied.push(m.version);
    }
  }).immediate();
  return applied;
}
