import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidStoreOptionsError } from '@hotpatch/store';
import { describeEventStoreConformance, scopedUnderTest } from '@hotpatch/store/conformance';
import { openSqliteEventStore } from './sqlite-store.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;

describeEventStoreConformance('SQLite', async () => {
  const path = join(dir, `conformance-${++n}.db`);
  const store = openSqliteEventStore({ path });
  return { store, reopen: async () => openSqliteEventStore({ path }), cleanup: () => store.close() };
});

// The same contract on a tenant's view of a file that other tenants share.
describeEventStoreConformance('SQLite, tenant "acme"’s view', scopedUnderTest(async () => {
  const path = join(dir, `conformance-${++n}.db`);
  const store = openSqliteEventStore({ path });
  return { store, reopen: async () => openSqliteEventStore({ path }), cleanup: () => store.close() };
}, 'acme'));

// The same contract on an in-memory database (no WAL there: it keeps its memory journal).
describeEventStoreConformance('SQLite in memory', async () => {
  const store = openSqliteEventStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

describe('opening a SQLite store', () => {
  it('without options or a path is refused, typed, before anything is opened (SQLite would make an anonymous temporary file)', () => {
    for (const options of [undefined, null, '/tmp/x.db', {}, { path: '' }, { path: 42 }]) {
      expect(() => openSqliteEventStore(options as never)).toThrow(InvalidStoreOptionsError);
    }
    expect(() => openSqliteEventStore('/tmp/x.db' as never)).toThrow(/^SQLite event store: options must be an object \{ path \}, got "\/tmp\/x.db"$/);
    expect(() => openSqliteEventStore({} as never)).toThrow(/^SQLite event store: path must be a file's path \(or ':memory:'\), got nothing$/);
  });
});
