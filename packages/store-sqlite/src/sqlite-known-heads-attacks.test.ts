/**
 * A hostile review of the heads a batch trusts (known-heads.ts): every way found for this connection's view of a head
 * to go stale while `PRAGMA data_version` stays put, or for the file to move under a batch, each checked on the log
 * afterwards with replay's StoreVerification (every event's hash, each stream's chain and head) and versions 1…n.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { EventIdTakenError, readLogPages, WrongExpectedVersionError, type NewEvent } from '@hotpatch/store';
import { StoreVerification } from '@hotpatch/replay';
import { openSqliteEventStore, type SqliteEventStore, type SqliteEventStoreOptions } from './sqlite-store.js';

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

/** Pauses only (a new reason each): any number of writers may append them at any version. */
const paused = (k: number, count: number): NewEvent[] => Array.from({ length: count }, (_, i) => ({ type: 'RingPaused', time: T, data: { by: 'service', reason: `p${k}-${i}` } }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The append's stale expected version refused, naming the version the log has. */
const refusedAt = async (append: Promise<unknown>, actual: number) => {
  const error = await append.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WrongExpectedVersionError);
  expect((error as WrongExpectedVersionError).actual).toBe(actual);
};

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

/** Store objects on one new file (`durability: 'normal'` unless said), each closed once `work` is done. */
async function onOneFile<const O extends ReadonlyArray<Partial<SqliteEventStoreOptions>>>(options: O, work: (stores: { -readonly [K in keyof O]: SqliteEventStore }, path: string) => Promise<void>): Promise<void> {
  const path = file();
  const stores: SqliteEventStore[] = [];
  try {
    for (const o of options) stores.push(openSqliteEventStore({ path, durability: 'normal', ...o }));
    await work(stores as { -readonly [K in keyof O]: SqliteEventStore }, path);
  } finally {
    for (const store of stores) await store.close();
  }
}

describe('SQLite store: attacks on the heads a batch trusts', () => {
  it('a full disk fails a one-row INSERT inside a batch (SQLite rolls the whole transaction back) and the caller carries on: no stale head, nothing of the batch kept', () =>
    onOneFile([{}], async ([a]) => {
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
    }));

  it('a full disk fails the last one-row INSERT of a long append (its own savepoint) inside a batch: the batch is not carried on outside its transaction', () =>
    onOneFile([{}], async ([a]) => {
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
    }));

  it('a full disk fails a many-row INSERT inside a batch (SQLite undoes the statement, the append its savepoint): the batch goes on at the heads it holds and commits', () =>
    onOneFile([{}], async ([a]) => {
      let x = await a.batch(() => add(a, 'ring/x', 0));
      x = await a.batch(async () => {
        const v = await add(a, 'ring/x', x);
        fillTheDisk(a);
        await expect(a.appendToStream('ring/y', ring(0, 70, 2_000))).rejects.toThrow(/disk is full/);
        await expect(a.appendToStream('ring/y', ring(0, 3, 2_000))).rejects.toThrow(/disk is full/);
        freeTheDisk(a);
        await add(a, 'ring/y', 0, 70);
        return add(a, 'ring/x', v);
      });
      await expectLog(a, new Map([['ring/x', 3], ['ring/y', 70]]));
      expect(x).toBe(3);
    }));

  it('a full disk fails the snapshot a readState rebuilds inside a batch (SQLite rolls the transaction back): the batch’s later appends neither trust a head nor commit', () =>
    onOneFile([{}, {}], async ([a, b]) => {
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
    }));

  it('the same, the batch writing nothing after the failed read: its end is refused as the batch lost, not a raw SQLite error', () =>
    onOneFile([{}, {}], async ([a, b]) => {
      await a.batch(() => add(a, 'ring/x', 0));
      let s = await add(b, 'ring/s', 0);
      s = await add(b, 'ring/s', s);
      await add(b, 'ring/s', s, 1, 400_000);
      const outcome = a.batch(async () => {
        await add(a, 'ring/x', 1);
        fillTheDisk(a);
        await expect(a.readState('ring/s')).rejects.toThrow();
        freeTheDisk(a);
      });
      await expect(outcome).rejects.toThrow(/rolled back the batch after an error/);
      await expectLog(a, new Map([['ring/x', 1], ['ring/s', 3]]));
    }));

  it('inside a batch: a retried id (the unique index), an id another stream holds and stale expected versions are refused at the log’s head, and the batch commits', () =>
    onOneFile([{}], async ([a]) => {
      const withIds = (events: NewEvent[], hex: string) => events.map((e, i) => ({ ...e, id: `${hex.repeat(8)}-0000-4000-8000-00000000000${i}` }));
      await a.batch(async () => {
        await a.appendToStream('ring/x', withIds(ring(0, 2), 'a'), { expectedVersion: 'no_stream' });
        // A retry at 'any': its INSERT fails on the unique index of ids, then it is found the stream's own.
        const again = await a.appendToStream('ring/x', withIds(ring(0, 2), 'a'));
        expect([again.written, again.nextExpectedVersion]).toEqual([false, 2]);
        await expect(a.appendToStream('ring/y', withIds(ring(0, 1), 'a'))).rejects.toBeInstanceOf(EventIdTakenError);
        await refusedAt(a.appendToStream('ring/x', ring(1, 1), { expectedVersion: 1 }), 2);
        await refusedAt(a.appendToStream('ring/x', ring(0, 1), { expectedVersion: 'no_stream' }), 2);
        await refusedAt(a.appendToStream('ring/y', ring(0, 1), { expectedVersion: 'stream_exists' }), 0);
        await refusedAt(a.appendToStream('ring/x', ring(2, 70), { expectedVersion: 3 }), 2);
        await add(a, 'ring/x', 2);
        await add(a, 'ring/y', 0);
      });
      await a.batch(async () => {
        await refusedAt(a.appendToStream('ring/x', ring(2, 1), { expectedVersion: 2 }), 3);
        const again = await a.appendToStream('ring/x', withIds(ring(0, 2), 'a'), { expectedVersion: 3 });
        expect(again.written).toBe(false);
        await add(a, 'ring/x', 3, 70);
      });
      await expectLog(a, new Map([['ring/x', 73], ['ring/y', 1]]));
    }));

  it('a batch nested in a batch (part of it), its callback failing and caught, appends in parallel inside: the heads stay the log’s', () =>
    onOneFile([{}], async ([a]) => {
      let x = await a.batch(() => add(a, 'ring/x', 0));
      x = await a.batch(async () => {
        let v = await add(a, 'ring/x', x);
        await expect(a.batch(async () => { await add(a, 'ring/x', v); throw new Error('inner'); })).rejects.toThrow('inner');
        v += 1; // the inner batch is the outer one: its append stands
        const [next] = await Promise.all([add(a, 'ring/x', v, 2), add(a, 'ring/y', 0, 3), a.readState('ring/x')]);
        return next;
      });
      x = await a.batch(() => add(a, 'ring/x', x));
      await expectLog(a, new Map([['ring/x', x], ['ring/y', 3]]));
      expect(x).toBe(6);
    }));

  it('another connection writes the file through ATTACH: data_version moves, the next batch reads the head again', () =>
    onOneFile([{}], async ([a], path) => {
      const raw = new Database(':memory:');
      try {
        const x = await a.batch(() => add(a, 'ring/x', 0, 2));
        raw.exec(`ATTACH DATABASE '${path}' AS log`);
        raw.prepare('UPDATE log.streams SET version = 7 WHERE stream = ?').run('ring/x');
        await a.batch(() => refusedAt(a.appendToStream('ring/x', ring(x, 1), { expectedVersion: x }), 7));
        raw.prepare('UPDATE log.streams SET version = 2 WHERE stream = ?').run('ring/x');
        await a.batch(() => add(a, 'ring/x', x));
        await expectLog(a, new Map([['ring/x', 3]]));
      } finally {
        raw.close();
      }
    }));

  it('checkpoints by the worker thread (a connection of its own) inside and between batches, the WAL started over, another handle writing: every append at the head', () =>
    onOneFile([{ checkpoints: 'worker' }, {}], async ([a, b]) => {
      let x = 0;
      for (let round = 0; round < 6; round++) {
        x = await a.batch(async () => {
          const v = await add(a, 'ring/x', x);
          await a.checkpointer!.now();
          return add(a, 'ring/x', v, round === 3 ? 70 : 2);
        });
        const done = await a.checkpointer!.now();
        expect(done.busy).toBe(0);
        // After a checkpoint of every frame, this write starts the WAL over.
        if (round % 2 === 0) x = await add(b, 'ring/x', x);
        x = await a.batch(() => add(a, 'ring/x', x));
      }
      await expectLog(a, new Map([['ring/x', x]]));
    }));

  it('close() while a batch is open keeps nothing of it; another handle and the store reopened go on at the log’s head', () =>
    onOneFile([{}, {}], async ([a, b], path) => {
      let x = await a.batch(() => add(a, 'ring/x', 0));
      const pending = a.batch(async () => {
        await add(a, 'ring/x', x);
        await sleep(30);
        await a.appendToStream('ring/x', ring(x + 1, 1));
      });
      await sleep(5);
      await a.close();
      await expect(pending).rejects.toThrow();
      x = await add(b, 'ring/x', x);
      const again = openSqliteEventStore({ path, durability: 'normal' });
      x = await again.batch(() => add(again, 'ring/x', x));
      x = await add(b, 'ring/x', x);
      x = await again.batch(() => add(again, 'ring/x', x, 2));
      await expectLog(again, new Map([['ring/x', 6]]));
      await again.close();
    }));

  it('another process appends while batches run (each waits for the other’s write lock): every event kept once, in a chain', () =>
    onOneFile([{}], async ([a], path) => {
      await a.appendToStream('ring/x', paused(0, 1));
      const script = `
        import { openSqliteEventStore } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)};
        const store = openSqliteEventStore({ path: ${JSON.stringify(path)}, durability: 'normal' });
        for (let k = 0; k < 100; k++) {
          await store.appendToStream('ring/x', ${JSON.stringify(paused(1, 1))});
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await store.close();`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      // The batches begin once the child writes, so that its appends fall between them.
      while ((await a.streamVersion('ring/x')) < 2) await sleep(5);
      let mine = 1;
      for (let k = 0; k < 40; k++) {
        mine += await a.batch(async () => {
          const first = await a.appendToStream('ring/x', paused(k, 1));
          await sleep(1);
          // At the head the batch holds: nobody else can have appended in between.
          await a.appendToStream('ring/x', paused(k, 2), { expectedVersion: first.nextExpectedVersion });
          return 3;
        });
        await sleep(1);
      }
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
      await expectLog(a, new Map([['ring/x', mine + 100]]));
    }));

  it('three store objects on one file (worker checkpoints, group commit, full) race in pairs: batches at exact versions, stale ones refused, some undone; the log is what was acknowledged (fast-check, seeded)', () =>
    // The fourth: a read-only handle, which reads the log at the end.
    onOneFile([{ checkpoints: 'worker' }, { durability: 'group' }, { durability: 'full' }, { readonly: true }], async (stores) => {
      const acked = new Map<string, number>();
      const op = fc.record({
        store: fc.integer({ min: 0, max: 2 }),
        streams: fc.subarray(['ring/p', 'ring/q', 'ring/r'], { minLength: 1 }),
        count: fc.constantFrom(1, 2, 70),
        batch: fc.boolean(),
        undo: fc.boolean(),
        stale: fc.boolean(),
        state: fc.boolean(),
      });
      type Op = typeof op extends fc.Arbitrary<infer O> ? O : never;
      /** What `o` appended, once acknowledged (an undone batch: nothing). */
      const run = async (o: Op): Promise<Map<string, number>> => {
        const s = stores[o.store as 0 | 1 | 2];
        const tally = new Map<string, number>();
        const note = (stream: string, k: number) => tally.set(stream, (tally.get(stream) ?? 0) + k);
        if (!o.batch) {
          for (const stream of o.streams) {
            await s.appendToStream(stream, paused(0, o.count));
            note(stream, o.count);
          }
          return tally;
        }
        const done = s.batch(async () => {
          // The write lock taken first: the versions read after it are the log's until the batch ends.
          await s.appendToStream('ring/lock', paused(0, 1));
          note('ring/lock', 1);
          for (const stream of o.streams) {
            const v = await s.streamVersion(stream);
            if (o.stale && v > 0) await refusedAt(s.appendToStream(stream, paused(1, 1), { expectedVersion: v - 1 }), v);
            if (o.state) await s.readState(stream);
            await s.appendToStream(stream, paused(2, o.count), { expectedVersion: v === 0 ? 'no_stream' : v });
            note(stream, o.count);
          }
          if (o.undo) throw new Error('undone');
        });
        if (!o.undo) return done.then(() => tally);
        await expect(done).rejects.toThrow('undone');
        return new Map();
      };
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(op, op), { minLength: 1, maxLength: 5 }), async (pairs) => {
          for (const pair of pairs) {
            for (const tally of await Promise.all(pair.map(run))) for (const [stream, k] of tally) acked.set(stream, (acked.get(stream) ?? 0) + k);
          }
        }),
        { seed: 20261207, numRuns: 12 },
      );
      await expectLog(stores[2], acked);
      await expectLog(stores[3], acked);
    }),
  60_000);
});
