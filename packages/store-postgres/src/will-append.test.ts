/**
 * `willAppend` on PostgreSQL: inside a batch, the heads of the streams named are read in one round trip once the batch
 * holds the log head, instead of one round trip per stream at its first append (the service's group of reports, a
 * tick's instructions). A hint only: the appends answer and write what they would without it, whatever another
 * writer did before the batch locked the log, and outside a batch it sends nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scopeStore, type NewEvent } from '@hotpatch/store';
import { events } from '@hotpatch/store/conformance';
import { createPostgresEventStore } from './postgres-store.js';
import { dropAll, newSchema, roundTrips, url } from '../test/helpers.js';

const open = (schema: string) => createPostgresEventStore({ connectionString: url!, schema, max: 4 });
/** A device's history of `n` events: enrolled, then assessments. */
const history = (n: number): NewEvent[] => [events.enrolled(), ...Array.from({ length: n - 1 }, () => events.assessed())];
/** A store object that has read nothing, over `streams` of two events each written by another. */
async function coldAfter(schema: string, streams: readonly string[]) {
  const writer = await open(schema);
  for (const stream of streams) await writer.appendToStream(stream, history(2));
  await writer.close();
  return open(schema);
}
/** The statements that read heads: an append's own, or the hint's (with the batch's lock when it takes it, else alone). */
const headReads = (sent: string[]) => sent.filter((s) => /\.batchHeads?$/.test(s) || s.includes('unnest(ARRAY['));
const withLock = /^BEGIN; .*FOR UPDATE; .*unnest\(ARRAY\[/s;

describe.skipIf(!url)('willAppend on PostgreSQL', () => {
  afterAll(dropAll);

  it('reads the heads a batch is about to append to in one round trip, not one per stream', async () => {
    const schema = newSchema();
    const writer = await open(schema);
    const streams = Array.from({ length: 12 }, (_, d) => `device/w-${d}`);
    await writer.batch(async () => {
      for (const stream of streams) await writer.appendToStream(stream, history(3));
    });
    await writer.close();
    // A store that has not seen these streams (a service restarted): without the hint, one head read per stream.
    const appendAll = (store: Awaited<ReturnType<typeof open>>, hint: boolean) =>
      roundTrips(store, () =>
        store.batch(async () => {
          if (hint) await store.willAppend(streams);
          for (const stream of streams) await store.appendToStream(stream, [events.assessed()], { expectedVersion: 'any' });
        }),
      );
    const cold = await open(schema);
    expect(headReads(await appendAll(cold, false))).toHaveLength(12);
    await cold.close();
    const hinted = await open(schema);
    // With the hint: in the round trip that takes the lock (its BEGIN too: the batch read nothing before).
    const sent = await appendAll(hinted, true);
    expect(headReads(sent)).toEqual([expect.stringMatching(withLock)]);
    expect(sent).toHaveLength(3);
    await hinted.close();
    const check = await open(schema);
    for (const stream of streams) expect((await check.readState(stream)).version).toBe(5);
    await check.close();
  });

  it('sends nothing outside a batch, nor for one stream, nor for heads the batch knows', async () => {
    const store = await open(newSchema());
    expect(await roundTrips(store, () => store.willAppend(['device/a', 'device/b']))).toEqual([]);
    const sent = await roundTrips(store, () =>
      store.batch(async () => {
        await store.appendToStream('device/a', history(1));
        await store.willAppend(['device/a']);
        await store.willAppend(['device/a', 'device/a']);
      }),
    );
    expect(headReads(sent)).toEqual([]);
    // One stream the batch does not know: its append's own read is the same round trip.
    const one = await roundTrips(store, () => store.batch(() => store.willAppend(['device/zzz'])));
    expect(headReads(one)).toEqual([]);
    await store.close();
  });

  it('writes what the same appends write without it, whatever another writer did before the batch locked the log (fast-check, seed 3107)', async () => {
    // Two stores over one schema: `other` appends to some streams between this store's last batch and the next, so the
    // heads this store cached are behind; the hint's heads are read under the batch's lock, so they are the log's.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 2, maxLength: 6 }),
        async (first, others, named) => {
          const outcomes: unknown[] = [];
          for (const hint of [false, true]) {
            const schema = newSchema();
            const store = await open(schema);
            const other = await open(schema);
            await store.batch(async () => {
              for (const d of new Set(first)) await store.appendToStream(`device/p-${d}`, history(2));
            });
            for (const d of others) await other.appendToStream(`device/p-${d}`, (await other.streamVersion(`device/p-${d}`)) === 0 ? history(1) : [events.assessed()]);
            const answers = await store.batch(async () => {
              if (hint) await store.willAppend(named.map((d) => `device/p-${d}`));
              const out: unknown[] = [];
              for (const d of named) {
                const stream = `device/p-${d}`;
                const version = await store.streamVersion(stream);
                const result = await store.appendToStream(stream, version === 0 ? history(1) : [events.assessed()], { expectedVersion: version }).catch((e: Error) => e.name);
                out.push(typeof result === 'string' ? result : [result.stream, result.versions]);
              }
              return out;
            });
            const log = (await store.readAll()).map((e) => [e.position, e.stream, e.version, e.type]);
            outcomes.push({ answers, log, heads: await Promise.all(named.map(async (d) => (await store.readState(`device/p-${d}`)).version)) });
            await store.close();
            await other.close();
          }
          expect(outcomes[1]).toEqual(outcomes[0]);
        },
      ),
      { seed: 3107, numRuns: 15 },
    );
  }, 60_000);

  it('takes no lock for a hint naming nothing; for one naming a single stream, the lock alone, as the first append would', async () => {
    const schema = newSchema();
    const store = await open(schema);
    const other = await open(schema);
    for (const [i, hint] of [[], ['device/n-1'], ['device/n-1', 'device/n-1']].entries()) {
      let late: Promise<unknown> | undefined;
      const sent = await roundTrips(store, () =>
        store.batch(async () => {
          await store.willAppend(hint);
          late = other.appendToStream(`device/n-2-${i}`, history(1));
          const state = await Promise.race([late.then(() => 'settled'), new Promise((ok) => setTimeout(() => ok('pending'), 300))]);
          expect(state).toBe(hint.length === 0 ? 'settled' : 'pending');
        }),
      );
      // Once the batch ends, the other writer's append goes in.
      expect(await late).toMatchObject({ written: true });
      expect(sent).toEqual(hint.length === 0 ? [] : [expect.stringMatching(/^BEGIN; .*FOR UPDATE; SELECT stream, id FROM [^;]*$/s), expect.stringMatching(/COMMIT$/)]);
    }
    await store.close();
    await other.close();
  });

  it('holds the log head from the hint on: another writer’s append to a stream it read waits for the batch, then follows it', async () => {
    const schema = newSchema();
    const store = await open(schema);
    const other = await open(schema);
    await other.appendToStream('device/l-1', history(2));
    await other.appendToStream('device/l-2', history(2));
    let late: Promise<unknown> | undefined;
    await store.batch(async () => {
      await store.willAppend(['device/l-1', 'device/l-2']);
      late = other.appendToStream('device/l-1', [events.assessed()]);
      const state = await Promise.race([late.then(() => 'settled'), new Promise((ok) => setTimeout(() => ok('pending'), 200))]);
      expect(state).toBe('pending');
      await store.appendToStream('device/l-1', [events.assessed()], { expectedVersion: 2 });
      await store.appendToStream('device/l-2', [events.assessed()], { expectedVersion: 2 });
    });
    expect(await late).toMatchObject({ stream: 'device/l-1', versions: [4] });
    await store.close();
    await other.close();
  });

  it('makes a unit of work four round trips: its first read with its BEGIN, the lock with the heads, the rows, the commit', async () => {
    const schema = newSchema();
    const streams = Array.from({ length: 6 }, (_, d) => `device/u-${d}`);
    const store = await coldAfter(schema, streams);
    let read: unknown[] = [];
    const sent = await roundTrips(store, () =>
      store.batch(async () => {
        // As the orchestrator's unit: its projection's catch-up, then its appends, named first.
        read = await store.readAll({ fromPosition: 3, limit: 100 });
        await store.willAppend(streams);
        for (const stream of streams) await store.appendToStream(stream, [events.assessed()], { expectedVersion: 2 });
      }),
    );
    expect(sent).toEqual([
      expect.stringMatching(/^BEGIN; .*SELECT position, stream, version, id, type, time, data, meta, hash FROM .*events WHERE position >= 3 ORDER BY position LIMIT 100$/s),
      expect.stringMatching(/^SELECT position FROM .*log_head FOR UPDATE; .*unnest\(ARRAY\[/s),
      expect.stringMatching(/\.flush$/),
      expect.stringMatching(/^SELECT pg_notify\(.*\); COMMIT$/),
    ]);
    expect(read).toEqual((await store.readAll()).slice(2, 12));
    await store.close();
  });

  it('makes a group of reports three round trips: named first, the lock with the heads; the catch-up from the batch; the rows; the commit', async () => {
    const schema = newSchema();
    const streams = Array.from({ length: 6 }, (_, d) => `device/g-${d}`);
    const store = await coldAfter(schema, streams);
    const sent = await roundTrips(store, () =>
      store.batch(async () => {
        await store.willAppend(streams);
        // The projection's catch-up from the log's end, under the lock: nothing to read.
        expect(await store.readAll({ fromPosition: 13 })).toEqual([]);
        for (const stream of streams) await store.appendToStream(stream, [events.assessed()], { expectedVersion: 2 });
      }),
    );
    expect(sent).toEqual([expect.stringMatching(withLock), expect.stringMatching(/\.flush$/), expect.stringMatching(/^SELECT pg_notify\(.*\); COMMIT$/)]);
    await store.close();
  });

  it('sends names as names: quotes, backslashes and SQL in them are read as the streams they name', async () => {
    const schema = newSchema();
    const names = ["device/o'brien", 'device/back\\slash\\', "device/x'); DROP TABLE events; --", 'device/ünï ☃', 'device/"quoted"'];
    const store = await coldAfter(schema, names);
    const sent = await roundTrips(store, () =>
      store.batch(async () => {
        await store.willAppend([...names, 'device/bad\u0000nul']);
        for (const stream of names) await store.appendToStream(stream, [events.assessed()], { expectedVersion: 2 });
      }),
    );
    expect(headReads(sent)).toEqual([expect.stringMatching(withLock)]);
    for (const stream of names) expect((await store.readState(stream)).version).toBe(3);
    expect((await store.readAll()).length).toBe(names.length * 3);
    await store.close();
  });

  it('names a tenant’s streams under its prefix, and passes over a name that is not one of its streams', async () => {
    const schema = newSchema();
    const store = await open(schema);
    const acme = scopeStore(store, 'acme');
    await acme.batch!(async () => {
      await acme.appendToStream('device/t-1', history(2));
      await acme.appendToStream('device/t-2', history(2));
    });
    await store.close();
    const again = await open(schema);
    const view = scopeStore(again, 'acme');
    const sent = await roundTrips(again, () =>
      view.batch!(async () => {
        await view.willAppend!(['device/t-1', 'device/t-2', 'tenant/other/device/x', 'not a stream']);
        await view.appendToStream('device/t-1', [events.assessed()], { expectedVersion: 2 });
        await view.appendToStream('device/t-2', [events.assessed()], { expectedVersion: 2 });
      }),
    );
    expect(headReads(sent)).toEqual([expect.stringMatching(withLock)]);
    expect(sent.find((s) => withLock.test(s))).toContain("ARRAY['tenant/acme/device/t-1', 'tenant/acme/device/t-2']");
    expect((await again.readState('tenant/acme/device/t-1')).version).toBe(3);
    await again.close();
  });
});
