/**
 * A hostile review of the heads a batch trusts (known-heads.ts): every way found for this connection's view of a head
 * to go stale while `PRAGMA data_version` stays put, or for the file to move under a batch, each checked on the log
 * afterwards with replay's StoreVerification (every event's hash, each stream's chain and head) and versions 1…n.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readLogPages, WrongExpectedVersionError, type NewEvent } from '@hotpatch/store';
import { StoreVerification } from '@hotpatch/replay';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite-store.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-heads-attacks-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `attack-${++n}.db`);
const T = '2026-01-01T00:00:00.000Z';

/** A ring stream pauses and resumes in turn: `count` events from version `from` + 1 (`pad`: a reason that long). */
const ring = (from: number, count: number, pad = 0): NewEvent[] =>
  Array.from({ length: count }, (_, i) =>
    (from + i) % 2 === 0 ? { type: 'RingPaused', time: T, data: { by: 'service', reason: `r${from + i}${'x'.repeat(pad)}` } } : { type: 'RingResumed', time: T, data: { by: 'service' } },
  );

/** Appends at the version the caller knows (exactly: a stale head is refused, or accepted where it must not be). */
const add = async (store: SqliteEventStore, stream: string, from: number, count = 1, pad = 0): Promise<number> => {
  const result = await store.appendToStream(stream, ring(from, count, pad), { expectedVersion: from === 0 ? 'no_stream' : from });
  expect(result.nextExpectedVersion).toBe(from + count);
  return from + count;
};

/** The whole log verified (hashes, chains, the store's heads) and each stream's versions 1…n, n its recorded version. */
async function expectLog(store: SqliteEventStore, expected?: ReadonlyMap<string, number>): Promise<void> {
  const verification = new StoreVerification();
  for await (const page of readLogPages(store)) verification.add(page);
  verification.checkHeads(await store.streamHeads());
  const result = verification.result();
  expect(result.problems.map((p) => p.message)).toEqual([]);
  expect(result.ok).toBe(true);
  const streams = new Map<string, number[]>();
  for await (const page of readLogPages(store)) for (const e of page) streams.set(e.stream, [...(streams.get(e.stream) ?? []), e.version]);
  for (const [stream, versions] of streams) {
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    expect(await store.streamVersion(stream)).toBe(versions.length);
  }
  if (expected !== undefined) for (const [stream, version] of expected) expect(streams.get(stream)?.length ?? 0).toBe(version);
}

/** The file's size now, as SQLite's page limit: the next page it needs is SQLITE_FULL, as on a full disk. */
const fillTheDisk = (store: SqliteEventStore) => store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
const freeTheDisk = (store: SqliteEventStore) => store.db.pragma('max_page_count = 4294967294');
/** About `bytes` of free pages in the file (a table filled and dropped), for small writes to take before it is full. */
const freePages = (store: SqliteEventStore, bytes: number) => {
  store.db.exec('CREATE TABLE scratch (b BLOB)');
  store.db.prepare('INSERT INTO scratch VALUES (zeroblob(?))').run(bytes);
  store.db.exec('DROP TABLE scratch');
};

describe('SQLite store: attacks on the heads a batch trusts', () => {
  it('a full disk fails a one-row INSERT inside a batch (SQLite rolls the whole transaction back) and the caller carries on: no stale head, nothing of the batch kept', async () => {
    const path = file();
    const a = openSqliteEventStore({ path, durability: 'normal' });
    try {
      let x = await a.batch(() => add(a, 'ring/x', 0));
      const outcome = a.batch(async () => {
        x = await add(a, 'ring/x', x);
        fillTheDisk(a);
        // A one-row INSERT uses no statement journal: SQLITE_FULL rolls back the batch's transaction, not the statement.
        await expect(add(a, 'ring/y', 0, 1, 20_000)).rejects.toThrow();
        freeTheDisk(a);
        // The caller carries on: the head known for ring/x (2) is gone with the transaction, the batch will not commit.
        await expect(a.appendToStream('ring/x', ring(x, 1), { expectedVersion: x })).rejects.toThrow(/disk is full/);
        await expect(a.appendToStream('ring/z', ring(0, 1))).rejects.toThrow(/disk is full/);
      });
      await expect(outcome).rejects.toThrow(/disk is full/);
      await expectLog(a, new Map([['ring/x', 1], ['ring/y', 0], ['ring/z', 0]]));
      // And the store works on, at the heads the log has.
      await a.batch(() => add(a, 'ring/x', 1));
      await expectLog(a, new Map([['ring/x', 2]]));
    } finally {
      await a.close();
    }
  });

  it('a full disk fails the last one-row INSERT of a long append (its own savepoint) inside a batch: the batch is not carried on outside its transaction', async () => {
    const path = file();
    const a = openSqliteEventStore({ path, durability: 'normal' });
    try {
      await a.batch(() => add(a, 'ring/x', 0));
      freePages(a, 160_000);
      const outcome = a.batch(async () => {
        await add(a, 'ring/x', 1);
        fillTheDisk(a);
        // 65 events: one INSERT of 64 rows (in the free pages), then one of a single row too large for what is left.
        await expect(a.appendToStream('ring/y', [...ring(0, 64), ...ring(64, 1, 400_000)])).rejects.toThrow(/disk is full/);
        freeTheDisk(a);
        await expect(a.appendToStream('ring/x', ring(2, 1), { expectedVersion: 2 })).rejects.toThrow(/disk is full/);
        await expect(a.appendToStream('ring/x', ring(2, 70), { expectedVersion: 2 })).rejects.toThrow(/disk is full/);
      });
      await expect(outcome).rejects.toThrow();
      await expectLog(a, new Map([['ring/x', 1], ['ring/y', 0]]));
    } finally {
      await a.close();
    }
  });

  it('a full disk fails the snapshot a readState rebuilds inside a batch (SQLite rolls the transaction back): the batch’s later appends neither trust a head nor commit', async () => {
    const path = file();
    const a = openSqliteEventStore({ path, durability: 'normal' });
    const b = openSqliteEventStore({ path, durability: 'normal' });
    try {
      await a.batch(() => add(a, 'ring/x', 0));
      // Written by another handle (a's state cache does not hold it), the snapshot left at version 1, a large state.
      let s = await add(b, 'ring/s', 0);
      s = await add(b, 'ring/s', s);
      s = await add(b, 'ring/s', s, 1, 400_000);
      const outcome = a.batch(async () => {
        await add(a, 'ring/x', 1);
        fillTheDisk(a);
        // The read folds two events and rebuilds the snapshot in the batch: a one-row statement, SQLITE_FULL.
        await expect(a.readState('ring/s')).rejects.toThrow();
        freeTheDisk(a);
        const lost = /rolled back the batch after an error/;
        await expect(a.appendToStream('ring/x', ring(2, 1), { expectedVersion: 2 })).rejects.toThrow(lost);
        await expect(a.appendToStream('ring/z', ring(0, 1))).rejects.toThrow(lost);
        await expect(a.appendToStream('ring/z', ring(0, 70))).rejects.toThrow(lost);
        await expect(a.saveCheckpoint('c', 0, 1)).rejects.toThrow(lost);
      });
      await expect(outcome).rejects.toThrow(/rolled back the batch after an error/);
      await expectLog(a, new Map([['ring/x', 1], ['ring/s', 3], ['ring/z', 0]]));
      expect(await a.readCheckpoint('c')).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
