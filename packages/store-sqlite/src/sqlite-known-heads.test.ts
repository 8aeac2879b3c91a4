/**
 * An append inside a batch that holds the write lock trusts the head this connection last read or wrote when no other
 * connection has committed since (known-heads.ts). A wrong head would break the hash chain or refuse the append: every
 * way the file can move under the trust is tried here, and the chain checked event by event afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { eventHash, GENESIS_HASH, type NewEvent } from '@hotpatch/store';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite-store.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-heads-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `heads-${++n}.db`);
const T = '2026-01-01T00:00:00.000Z';

/** A ring stream takes pauses and resumes in turn, for ever: `count` events from version `from` + 1. */
const ringEvents = (from: number, count: number): NewEvent[] =>
  Array.from({ length: count }, (_, i) => ((from + i) % 2 === 0 ? { type: 'RingPaused', time: T, data: { by: 'service', reason: `r${from + i}` } } : { type: 'RingResumed', time: T, data: { by: 'service' } }));

/** Appends `count` events at the stream's version as the caller knows it (exactly: a wrong head is refused). */
const add = async (store: SqliteEventStore, stream: string, from: number, count = 1) => {
  const result = await store.appendToStream(stream, ringEvents(from, count), { expectedVersion: from === 0 ? 'no_stream' : from });
  expect(result.nextExpectedVersion).toBe(from + count);
  return from + count;
};

/** The stream's events chained from the genesis hash, versions 1…n without a gap, its head the last hash. */
async function expectChain(store: SqliteEventStore, stream: string, version: number): Promise<void> {
  const events = await store.readStream(stream);
  expect(events.map((e) => e.version)).toEqual(Array.from({ length: version }, (_, i) => i + 1));
  let prev = GENESIS_HASH;
  for (const e of events) {
    prev = eventHash(prev, e);
    expect(e.hash).toBe(prev);
  }
  const heads = new Map(await store.streamHeads());
  expect(heads.get(stream) ?? GENESIS_HASH).toBe(prev);
}

describe('SQLite store: the heads a batch trusts', () => {
  it('another store object on the file appends between two batches: the next batch reads the head again', async () => {
    const path = file();
    const a = openSqliteEventStore({ path, durability: 'normal' });
    const b = openSqliteEventStore({ path, durability: 'normal' });
    try {
      let v = 0;
      v = await a.batch(() => add(a, 'ring/x', v));
      v = await add(b, 'ring/x', v);
      v = await a.batch(() => add(a, 'ring/x', v));
      v = await b.batch(() => add(b, 'ring/x', v, 2));
      v = await a.batch(() => add(a, 'ring/x', v));
      await expectChain(a, 'ring/x', v);
      expect(v).toBe(6);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('another process appends between two batches: the next batch reads the head again', async () => {
    const path = file();
    const a = openSqliteEventStore({ path, durability: 'normal' });
    try {
      let v = await a.batch(() => add(a, 'ring/x', 0));
      v = await a.batch(() => add(a, 'ring/x', v));
      const script = `
        import { openSqliteEventStore } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)};
        const store = openSqliteEventStore({ path: ${JSON.stringify(path)} });
        await store.appendToStream('ring/x', ${JSON.stringify(ringEvents(v, 3))}, { expectedVersion: ${v} });
        await store.close();`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(child.stderr).toBe('');
      v += 3;
      v = await a.batch(() => add(a, 'ring/x', v));
      await expectChain(a, 'ring/x', v);
    } finally {
      await a.close();
    }
  });

  it('a rolled-back batch: the heads it wrote are forgotten with its events', async () => {
    const a = openSqliteEventStore({ path: file(), durability: 'normal' });
    try {
      let v = await a.batch(() => add(a, 'ring/x', 0));
      await expect(
        a.batch(async () => {
          await add(a, 'ring/x', v, 2);
          await add(a, 'ring/y', 0);
          throw new Error('undone');
        }),
      ).rejects.toThrow('undone');
      v = await a.batch(() => add(a, 'ring/x', v));
      await a.batch(() => add(a, 'ring/y', 0));
      await expectChain(a, 'ring/x', v);
      await expectChain(a, 'ring/y', 1);
    } finally {
      await a.close();
    }
  });

  it('the same store appends outside a batch between two (its own commit leaves data_version as it is)', async () => {
    const a = openSqliteEventStore({ path: file(), durability: 'normal' });
    try {
      let v = await a.batch(() => add(a, 'ring/x', 0));
      v = await add(a, 'ring/x', v);
      v = await a.batch(() => add(a, 'ring/x', v));
      // More than one INSERT's rows inside a batch: a savepoint of its own.
      v = await a.batch(() => add(a, 'ring/x', v, 130));
      v = await a.batch(() => add(a, 'ring/x', v));
      await expectChain(a, 'ring/x', v);
    } finally {
      await a.close();
    }
  });

  it('an append refused inside a batch leaves the batch’s heads right', async () => {
    const a = openSqliteEventStore({ path: file(), durability: 'normal' });
    try {
      let v = await a.batch(() => add(a, 'ring/x', 0));
      v = await a.batch(async () => {
        await expect(a.appendToStream('ring/x', ringEvents(v, 1), { expectedVersion: v + 5 })).rejects.toThrow();
        // Resumed twice: the lifecycle refuses the second.
        await expect(a.appendToStream('ring/x', [{ type: 'RingResumed', time: T, data: { by: 'service' } }, { type: 'RingResumed', time: T, data: { by: 'service' } }])).rejects.toThrow();
        return add(a, 'ring/x', v);
      });
      v = await a.batch(() => add(a, 'ring/x', v));
      await expectChain(a, 'ring/x', v);
    } finally {
      await a.close();
    }
  });

  it('the head is trusted inside a batch: its own connection’s write behind the store’s back is not read (one statement fewer an append)', async () => {
    const a = openSqliteEventStore({ path: file(), durability: 'normal' });
    try {
      const v = await a.batch(() => add(a, 'ring/x', 0, 2));
      // Behind the store's back, on its own connection: data_version does not move, so the kept head stands.
      a.db.prepare('UPDATE streams SET version = 7 WHERE stream = ?').run('ring/x');
      expect(await a.batch(() => add(a, 'ring/x', v))).toBe(3);
      // Outside a batch the head is read: the store now finds what it wrote (3), whatever was written behind its back.
      expect(await a.streamVersion('ring/x')).toBe(3);
    } finally {
      await a.close();
    }
  });

  it('two store objects on one file, batches and appends interleaved at random: every append at the head, the chain intact (fast-check, seeded)', async () => {
    const path = file();
    const stores = [openSqliteEventStore({ path, durability: 'normal' }), openSqliteEventStore({ path, durability: 'normal' })];
    const versions = new Map<string, number>();
    const op = fc.record({
      store: fc.integer({ min: 0, max: 1 }),
      stream: fc.constantFrom('ring/p', 'ring/q', 'ring/r'),
      batch: fc.boolean(),
      count: fc.constantFrom(1, 2, 70),
      undo: fc.boolean(),
    });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
          for (const o of ops) {
            const store = stores[o.store]!;
            const from = versions.get(o.stream) ?? 0;
            if (!o.batch) {
              versions.set(o.stream, await add(store, o.stream, from, o.count));
              continue;
            }
            const done = store.batch(async () => {
              const next = await add(store, o.stream, from, o.count);
              if (o.undo) throw new Error('undone');
              return next;
            });
            if (o.undo) await expect(done).rejects.toThrow('undone');
            else versions.set(o.stream, await done);
          }
        }),
        { seed: 22, numRuns: 25 },
      );
      for (const [stream, version] of versions) await expectChain(stores[0]!, stream, version);
    } finally {
      for (const s of stores) await s.close();
    }
  });
});
