/**
 * `readState` outside a batch on PostgreSQL: the reads asked in one turn of the event loop share one statement
 * (state-heads.ts), each answered as its own read would be — the log's state at that statement, another writer's
 * append seen at the next read, a failure every reader's own error naming its stream.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { NewEvent } from '@hotpatch/store';
import { events } from '@hotpatch/store/conformance';
import { ConnectionLostError } from './errors.js';
import { createPostgresEventStore } from './postgres-store.js';
import { dropAll, newSchema, roundTrips, url } from '../test/helpers.js';
import { startTcpProxy } from '../test/tcp-proxy.js';

const open = (schema: string) => createPostgresEventStore({ connectionString: url!, schema, max: 4 });
const history = (n: number): NewEvent[] => [events.enrolled(), ...Array.from({ length: n - 1 }, () => events.assessed())];
const heads = (sent: string[]) => sent.filter((s) => /\.stateHeads?$/.test(s));

describe.skipIf(!url)('readState on PostgreSQL, reads asked together', () => {
  afterAll(dropAll);

  it('share one statement in a turn, and each answers as a read of its own (fast-check, seed 2212)', async () => {
    const schema = newSchema();
    const writer = await open(schema);
    // Streams of 1 to 12 events (the writer's snapshots at their heads), and streams without events.
    for (let d = 0; d < 8; d++) await writer.appendToStream(`device/r-${d}`, history(1 + ((d * 5) % 12)));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 2, maxLength: 30 }), fc.integer({ min: 0, max: 7 }), async (asked, moved) => {
        const reader = await open(schema);
        // What the reader kept from an earlier read, for some streams; then another writer moves one of them.
        for (const d of asked.slice(0, 3)) await reader.readState(`device/r-${d}`);
        await writer.appendToStream(`device/r-${moved}`, [events.assessed()]);
        let together: unknown[] = [];
        const sent = await roundTrips(reader, async () => {
          together = await Promise.all(asked.map((d) => reader.readState(`device/r-${d}`)));
        });
        expect(heads(sent)).toHaveLength(1);
        const fresh = await open(schema);
        const alone: unknown[] = [];
        for (const d of asked) alone.push(await fresh.readState(`device/r-${d}`));
        expect(together).toEqual(alone);
        await reader.close();
        await fresh.close();
      }),
      { seed: 2212, numRuns: 12 },
    );
    await writer.close();
  });

  it('sees an append made between two turns at the next read', async () => {
    const schema = newSchema();
    const store = await open(schema);
    const other = await open(schema);
    await other.appendToStream('device/t1', [events.enrolled()]);
    expect((await Promise.all([store.readState('device/t1'), store.readState('device/none')])).map((r) => r.version)).toEqual([1, 0]);
    await other.appendToStream('device/t1', [events.assessed()]);
    expect((await Promise.all([store.readState('device/t1'), store.readState('device/none')])).map((r) => r.version)).toEqual([2, 0]);
    await store.close();
    await other.close();
  });

  it('answers a read of a name PostgreSQL cannot take (a NUL) as of a stream without events, sending nothing for it; the other reads of its turn as ever', async () => {
    const schema = newSchema();
    const store = await open(schema);
    await store.appendToStream('device/n1', history(2));
    let sent = 0;
    const query = store.pool.query.bind(store.pool);
    store.pool.query = ((...args: Parameters<typeof query>) => (sent++, query(...args))) as typeof store.pool.query;
    expect(await store.readState('device/x\u0000y')).toMatchObject({ version: 0, eventsFolded: 0, state: { value: 'unenrolled' } });
    expect(sent).toBe(0);
    const reads = await Promise.all([store.readState('device/n1'), store.readState('device/x\u0000y'), store.readState('device/n2')]);
    expect(reads.map((r) => r.version)).toEqual([2, 0, 0]);
    expect(sent).toBe(1);
    await store.close();
  });

  it('answers a stream at the head the reader kept with its state, though the kept state was evicted before the answer came', async () => {
    const schema = newSchema();
    const writer = await open(schema);
    // 500 reads fill a statement: the 501st goes in a second one, answered first, whose read evicts the one kept.
    const streams = Array.from({ length: 500 }, (_, i) => `device/e-${i}`);
    await writer.batch(async () => {
      for (const stream of streams) await writer.appendToStream(stream, history(2));
    });
    await writer.close();
    const store = await createPostgresEventStore({ connectionString: url!, schema, max: 4, stateCacheSize: 1 });
    // The full statement's answer held back a little, so that the second one's is taken in first.
    const query = store.pool.query.bind(store.pool) as (config: { values?: unknown[][] }) => Promise<unknown>;
    (store.pool as unknown as { query: typeof query }).query = async (config) => {
      const result = await query(config);
      if (config.values?.[0]?.length === 500) await new Promise((ok) => setTimeout(ok, 50));
      return result;
    };
    for (let run = 0; run < 2; run++) {
      await store.readState('device/e-0');
      const reads = await Promise.all([...streams, 'device/e-1'].map((stream) => store.readState(stream)));
      for (const read of reads) expect(read).toMatchObject({ version: 2, state: { value: expect.any(String) } });
    }
    await store.close();
  });

  it('fails every read of the statement with its own error, naming its stream, when the server is gone', async () => {
    const proxy = await startTcpProxy({ host: new URL(url!).hostname, port: Number(new URL(url!).port || 5432) });
    const store = await createPostgresEventStore({ connectionString: proxy.url(url!), schema: newSchema(), max: 2, connectTimeoutMs: 1_000 });
    await store.appendToStream('device/a', history(2));
    // The server gone: its sessions ended, new connections refused.
    await proxy.cut();
    const streams = ['device/a', 'device/b', 'device/c'];
    const reads = await Promise.allSettled(streams.map((s) => store.readState(s)));
    for (const [i, r] of reads.entries()) {
      expect(r.status).toBe('rejected');
      const error = (r as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect(error.message).toContain(streams[i]);
    }
    await store.close();
    await proxy.close();
  });
});
