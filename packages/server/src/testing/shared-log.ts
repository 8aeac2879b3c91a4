/**
 * Two instances over one log, for the tests: each case opens a new log and gives a function that opens another store
 * object on it (two store objects on one SQLite file; two pools on one PostgreSQL schema, as two instances are). The
 * PostgreSQL case runs when HOTPATCH_TEST_POSTGRES_URL is set (said once when it is not); its schemas are dropped
 * after the file's tests, the SQLite files removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { EventStore } from '@hotpatch/store';
import { createPostgresEventStore } from '@hotpatch/store-postgres';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';

export type SharedLogCase = [name: string, runs: boolean, opener: () => Promise<() => Promise<EventStore>>];

/** The cases of `file` (named in the line that says the PostgreSQL case is skipped), cleaned up after its tests. */
export function sharedLogCases(file: string, names: { sqlite: string; postgres: string }): SharedLogCase[] {
  const pgUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
  if (!pgUrl) console.log(`${file}: the PostgreSQL case is skipped: HOTPATCH_TEST_POSTGRES_URL is not set`);
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-shared-log-'));
  const schemas: string[] = [];
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (pgUrl && schemas.length > 0) {
      const admin = await createPostgresEventStore({ connectionString: pgUrl, schema: schemas[0]!, max: 1 });
      for (const schema of schemas) await admin.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.close();
    }
  });
  return [
    [names.sqlite, true, async () => {
      const path = join(dir, `f${Math.random().toString(36).slice(2)}.db`);
      return async () => openSqliteEventStore({ path, durability: 'normal' });
    }],
    [names.postgres, !!pgUrl, async () => {
      const schema = `shared_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      schemas.push(schema);
      return async () => createPostgresEventStore({ connectionString: pgUrl!, schema, max: 4 });
    }],
  ];
}
