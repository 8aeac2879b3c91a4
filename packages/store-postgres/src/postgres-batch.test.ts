/**
 * Batches on PostgreSQL: one transaction on one connection, whatever their size; invisible to others until they
 * commit; other store objects' appends wait for them without deadlock; a connection lost in the middle loses and
 * duplicates nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { EventIdTakenError, type NewEvent, type RecordedEvent } from '@hotpatch/store';
import { asyncContextsPerPromise, events } from '@hotpatch/store/conformance';
import { verifyTimeline } from '@hotpatch/replay';
import { createPostgresEventStore } from './postgres-store.js';
import { ConnectionLostError } from './errors.js';
import type { PostgresEventStore } from './postgres-store.js';
import { admin, dropAll, newSchema, roundTrips, url } from '../test/helpers.js';

const open = (schema: string, options: Partial<Parameters<typeof createPostgresEventStore>[0]> = {}) => createPostgresEventStore({ connectionString: url!, schema, max: 4, ...options });
const settled = <T>(promise: Promise<T>, ms = 150) => Promise.race([promise.then(() => 'settled' as const), new Promise<'pending'>((ok) => setTimeout(() => ok('pending'), ms))]);
/** A device's history of `n` events: enrolled, assessed, then `n - 2` more assessments. */
const history = (n: number): NewEvent[] => [events.enrolled(), ...Array.from({ length: n - 1 }, () => events.assessed())];

describe.skipIf(!url)('PostgreSQL batches', () => {
  afterAll(dropAll);

  it('make no round trip per append: the lock, the rows, the commit (the streams’ heads and the ids known from the last batch)', async () => {
    const store = await open(newSchema());
    const streams = Array.from({ length: 10 }, (_, d) => `device/known-${d}`);
    await store.batch(async () => {
      for (const stream of streams) await store.appendToStream(stream, history(2));
    });
    let seen: RecordedEvent[] = [];
    const sent = await roundTrips(store, () =>
      store.batch(async () => {
        for (let round = 0; round < 10; round++) {
          for (const stream of streams) {
            const { positions } = await store.appendToStream(stream, [events.assessed()], { expectedVersion: 2 + round });
            // Reads of what the batch wrote, and of a stream without events, are answered by the batch.
            seen.push(...(await store.readAll({ fromPosition: positions[0]! })));
            expect((await store.readState(stream)).version).toBe(3 + round);
            expect(await store.streamVersion('device/none')).toBe(0);
          }
        }
      }),
    );
    expect(sent).toEqual([expect.stringMatching(/^BEGIN; .*FOR UPDATE; SELECT stream, id FROM/), expect.stringMatching(/\.flush$/), expect.stringMatching(/^SELECT pg_notify\(.*\); COMMIT$/)]);
    expect(seen).toEqual((await store.readAll()).slice(20));
    await store.close();
  });

  it('know what other writers appended since their last batch: heads, ids and streams they wrote are read, never guessed', async () => {
    const schema = newSchema();
    const store = await open(schema);
    const other = await open(schema);
    await store.batch(async () => {
      await store.appendToStream('device/s1', history(2));
      await store.appendToStream('device/s2', history(2));
    });
    const taken = events.enrolled();
    await other.appendToStream('device/s1', [events.assessed()], { expectedVersion: 2 });
    await other.appendToStream('device/s3', [taken]);
    const refused = await store.batch(async () => {
      expect((await store.appendToStream('device/s1', [events.assessed()], { expectedVersion: 3 })).versions).toEqual([4]);
      expect((await store.appendToStream('device/s2', [events.assessed()], { expectedVersion: 2 })).versions).toEqual([3]);
      expect((await store.appendToStream('device/s3', [events.assessed()], { expectedVersion: 1 })).versions).toEqual([2]);
      expect(await store.appendToStream('device/s3', [taken])).toMatchObject({ written: false, versions: [1] });
      return store.appendToStream('device/s4', [taken]).catch((error: unknown) => error);
    });
    expect(refused).toBeInstanceOf(EventIdTakenError);
    const all = await other.readAll();
    expect(all.map((e) => `${e.stream}@${e.version}`)).toEqual(['device/s1@1', 'device/s1@2', 'device/s2@1', 'device/s2@2', 'device/s1@3', 'device/s3@1', 'device/s1@4', 'device/s2@3', 'device/s3@2']);
    expect(verifyTimeline({ events: all }).problems).toEqual([]);
    await Promise.all([store.close(), other.close()]);
  });

  it('are one transaction whatever their size: seen by nobody until the commit, then whole, every row with its one xid, in order', async () => {
    const schema = newSchema();
    const store = await open(schema);
    const other = await open(schema);
    await other.appendToStream('device/before', history(2));
    let seenInside: number | undefined;
    // 3,000 events (more than one buffer's worth), in appends of 10 events over 30 streams.
    await store.batch(async () => {
      for (let round = 0; round < 10; round++) {
        for (let d = 0; d < 30; d++) await store.appendToStream(`device/b${d}`, round === 0 ? history(10) : Array.from({ length: 10 }, () => events.assessed()));
      }
      seenInside = (await other.readAll()).length;
      expect((await store.readAll()).length).toBe(2 + 3_000);
    });
    expect(seenInside).toBe(2);
    const all = await other.readAll();
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 3_002 }, (_, i) => i + 1));
    expect(verifyTimeline({ events: all }).problems).toEqual([]);
    const xids = await admin().query<{ n: number }>(`SELECT count(DISTINCT transaction_id)::int AS n FROM "${schema}".events WHERE stream <> 'device/before'`);
    expect(xids.rows[0]!.n).toBe(1);
    expect((await admin().query(`SELECT position FROM "${schema}".log_head`)).rows[0].position).toBe('3002');
    expect((await other.readState('device/b7')).version).toBe(100);
    await Promise.all([store.close(), other.close()]);
  });

  it('make another store object’s append to one of their streams wait for the commit, without deadlock, then go after it', async () => {
    const schema = newSchema();
    const store = await open(schema);
    // Without the head it wrote kept as a guess: an append on a guess tries again after any failure, a deadlock too.
    const other = await open(schema, { stateCacheSize: 0 });
    await other.appendToStream('device/shared', history(2));
    let release!: () => void;
    const hold = new Promise<void>((ok) => (release = ok));
    let outside: Promise<unknown> | undefined;
    const batch = store.batch(async () => {
      // The batch holds the log head from its first append.
      await store.appendToStream('device/first', history(2));
      // Another writer starts an append to a stream the batch writes next: it waits on the log head, holding no row.
      outside = other.appendToStream('device/shared', [events.assessed()]);
      expect(await settled(outside)).toBe('pending');
      await store.appendToStream('device/shared', [events.assessed(), events.assessed()], { expectedVersion: 2 });
      await hold;
    });
    expect(await settled(batch)).toBe('pending');
    release();
    await batch;
    // The other append went after the batch's events, on the stream as the batch left it.
    expect(await outside).toMatchObject({ written: true, versions: [5] });
    const all = await other.readAll();
    expect(all.map((e) => [e.stream, e.version])).toEqual([
      ['device/shared', 1],
      ['device/shared', 2],
      ['device/first', 1],
      ['device/first', 2],
      ['device/shared', 3],
      ['device/shared', 4],
      ['device/shared', 5],
    ]);
    await Promise.all([store.close(), other.close()]);
  });

  it('lose and duplicate nothing when the connection is lost in the middle: run again, everything is written once', async () => {
    const schema = newSchema();
    const application_name = `hotpatch-batch-${schema}`;
    const store = await open(schema, { application_name });
    await store.appendToStream('device/there', history(2));
    const work: Array<[string, NewEvent[]]> = Array.from({ length: 40 }, (_, d) => [`device/lost-${d}`, history(60)]);
    let done = 0;
    const run = () =>
      store.batch(async () => {
        for (const [stream, batch] of work) {
          await store.appendToStream(stream, batch, { expectedVersion: 'any' });
          // Halfway (some rows written by the batch, some buffered), the server ends the batch's backend.
          if (++done === 20) {
            const { rows } = await admin().query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'", [application_name]);
            expect(rows).toHaveLength(1);
            await admin().query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
          }
        }
      });
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect((error as ConnectionLostError).cause).toMatchObject({ code: '57P01' });
    expect((await store.readAll()).map((e) => e.stream)).toEqual(['device/there', 'device/there']);
    // The same store object goes on, and the same batch again writes everything once.
    await run();
    const all = await store.readAll();
    expect(all.length).toBe(2 + 40 * 60);
    expect(verifyTimeline({ events: all }).problems).toEqual([]);
    // Once more: every append is a retry, nothing is written twice.
    await run();
    expect((await store.readAll()).length).toBe(2 + 40 * 60);
    await expect(store.batch(() => store.appendToStream('device/other', [work[0]![1][0]!]))).rejects.toThrow(EventIdTakenError);
    await store.close();
  });

  it.skipIf(asyncContextsPerPromise() === undefined)('stores opened and closed add nothing to what each later promise costs (one AsyncLocalStorage for all: batchScope)', async () => {
    const schema = newSchema();
    const useAStore = async () => {
      const store = await open(schema);
      await store.batch(() => store.appendToStream(`device/context-${Math.random()}`, [events.enrolled()]));
      await store.close();
    };
    await useAStore();
    const first = asyncContextsPerPromise();
    for (let i = 0; i < 3; i++) await useAStore();
    expect(asyncContextsPerPromise()).toBe(first);
  });
});
