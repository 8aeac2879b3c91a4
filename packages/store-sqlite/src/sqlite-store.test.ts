import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeEventStoreConformance } from '@hotpatch/store/conformance';
import { openSqliteEventStore } from './sqlite-store.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;

describeEventStoreConformance('SQLite', async () => {
  const path = join(dir, `conformance-${++n}.db`);
  const store = openSqliteEventStore({ path });
  return { store, reopen: async () => openSqliteEventStore({ path }), cleanup: () => store.close() };
});

// The same contract on an in-memory database (no WAL there: it keeps its memory journal).
describeEventStoreConformance('SQLite in memory', async () => {
  const store = openSqliteEventStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});
