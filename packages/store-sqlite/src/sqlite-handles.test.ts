/**
 * Two store objects on one file in one process (two orchestrators, a service and its admin task). SQLite's busy wait
 * is synchronous: a handle waiting there for the other's batch froze the event loop the batch needed to commit, for
 * the whole busy timeout, and then failed. The handles of a process now wait for each other asynchronously.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseBusyError } from '@hotpatch/store';
import { events } from '@hotpatch/store/conformance';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite-store.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-handles-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two handles on a new file, and the longest the event loop stalled while `work` ran. */
async function twoHandles(busyTimeoutMs: number, work: (a: SqliteEventStore, b: SqliteEventStore) => Promise<void>): Promise<number> {
  const path = join(dir, `handles-${++n}.db`);
  const a = openSqliteEventStore({ path, busyTimeoutMs, durability: 'normal' });
  const b = openSqliteEventStore({ path, busyTimeoutMs, durability: 'normal' });
  let last = Date.now();
  let stall = 0;
  const ticker = setInterval(() => {
    stall = Math.max(stall, Date.now() - last);
    last = Date.now();
  }, 5);
  try {
    await work(a, b);
  } finally {
    clearInterval(ticker);
    await a.close();
    await b.close();
  }
  return stall;
}

describe('two SQLite handles on one file in one process', () => {
  it('one’s batch holds the write lock across awaits: the other’s appends and batch wait for it, the event loop runs, nothing fails', async () => {
    const stall = await twoHandles(3_000, async (a, b) => {
      const order: string[] = [];
      const batch = a.batch(async () => {
        await a.appendToStream('device/a1', [events.enrolled()]);
        await sleep(150);
        await a.appendToStream('device/a2', [events.enrolled()]);
        order.push('a committed');
      });
      await sleep(10);
      const started = Date.now();
      const appended = b.appendToStream('device/b1', [events.enrolled()]).then(() => order.push('b appended'));
      const batched = b.batch(async () => {
        await b.appendToStream('device/b2', [events.enrolled()]);
        await b.saveCheckpoint('b', 0, 1);
        await b.saveProjection('b', 1, 'x');
      });
      await Promise.all([batch, appended, batched]);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(order).toEqual(['a committed', 'b appended']);
      // A's batch first, whole; then B's calls, in the order B's own batch lets them (it claimed the handle first).
      expect((await a.readAll()).map((e) => e.stream)).toEqual(['device/a1', 'device/a2', 'device/b2', 'device/b1']);
      expect(await a.readProjection('b')).toEqual({ position: 1, parts: ['x'] });
    });
    expect(stall).toBeLessThan(1_000);
  });

  it('a batch that never ends: the other handle’s write fails after its busy timeout with DatabaseBusyError, the event loop running meanwhile', async () => {
    let release!: () => void;
    const stall = await twoHandles(400, async (a, b) => {
      const held = a.batch(async () => {
        await a.appendToStream('device/a1', [events.enrolled()]);
        await new Promise<void>((resolve) => (release = resolve));
      });
      await sleep(10);
      const started = Date.now();
      const error = await b.appendToStream('device/b1', [events.enrolled()]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseBusyError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      release();
      await held;
      // Once the batch is over, the other handle writes.
      await b.appendToStream('device/b1', [events.enrolled()]);
      expect(await b.streamVersion('device/b1')).toBe(1);
    });
    expect(stall).toBeLessThan(300);
  });

  it('many rounds of both handles’ batches and appends interleaved: every one lands', async () => {
    await twoHandles(3_000, async (a, b) => {
      const work = (store: SqliteEventStore, name: string) =>
        Array.from({ length: 20 }, async (_, i) => {
          await store.batch(async () => {
            await store.appendToStream(`device/${name}-${i}`, [events.enrolled()]);
            await sleep(1);
            await store.appendToStream(`device/${name}-${i}`, [events.assessed()]);
          });
          await store.appendToStream(`device/${name}-${i}`, [events.staged()]);
        });
      await Promise.all([...work(a, 'a'), ...work(b, 'b')]);
      expect(await a.readAll()).toHaveLength(120);
    });
  });
});
