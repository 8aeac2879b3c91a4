/**
 * Leases and fenced batches on a real PostgreSQL: one owner at a time, the epoch moving with each change of hands,
 * a stalled owner's batch refused after a takeover (nothing written), a takeover waiting for a fenced batch in flight.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FencingUnsupportedError, inBatch, InvalidStoreOptionsError, LeaseLostError, createInMemoryEventStore, scopeStore } from '@hotpatch/store';
import { events } from '@hotpatch/store/conformance';
import { createPostgresEventStore, type PostgresEventStore } from './postgres-store.js';
import { dropAll, newSchema, url } from '../test/helpers.js';

const open = (schema: string) => createPostgresEventStore({ connectionString: url!, schema, max: 4 });
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const settled = <T>(promise: Promise<T>, ms = 200) => Promise.race([promise.then(() => 'settled' as const), sleep(ms).then(() => 'pending' as const)]);

describe.skipIf(!url)('PostgreSQL leases', () => {
  const stores: PostgresEventStore[] = [];
  const twoStores = async () => {
    const schema = newSchema();
    const a = await open(schema);
    const b = await open(schema);
    stores.push(a, b);
    return [a, b] as const;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
    await dropAll();
  });

  it('one owner at a time; the epoch moves when the lease changes hands, not when its owner takes it again', async () => {
    const [a, b] = await twoStores();
    const la = a.leases({ owner: 'A', ttlMs: 400 });
    const lb = b.leases({ owner: 'B', ttlMs: 10_000 });
    const first = await la.acquire('orchestrator/acme');
    expect(first).toMatchObject({ lease: 'orchestrator/acme', owner: 'A', epoch: 1 });
    expect(await lb.acquire('orchestrator/acme')).toBeUndefined();
    expect((await la.acquire('orchestrator/acme'))?.epoch).toBe(1);
    expect((await la.renew(first!))?.epoch).toBe(1);
    expect((await la.live()).map((l) => [l.lease, l.owner])).toEqual([['orchestrator/acme', 'A']]);
    await sleep(500);
    expect(await lb.live()).toEqual([]);
    const taken = await lb.acquire('orchestrator/acme');
    expect(taken).toMatchObject({ owner: 'B', epoch: 2 });
    expect(await la.renew(first!)).toBeUndefined();
    expect(await la.release(first!)).toBe(false);
    expect(await lb.release(taken!)).toBe(true);
    expect((await la.acquire('orchestrator/acme'))?.epoch).toBe(3);
  });

  it('a fenced batch commits while the lease is held, and is refused, writing nothing, once another owner took it', async () => {
    const [a, b] = await twoStores();
    const la = a.leases({ owner: 'A', ttlMs: 300 });
    const lb = b.leases({ owner: 'B', ttlMs: 10_000 });
    const lease = (await la.acquire('t'))!;
    await inBatch(a, async () => void (await a.appendToStream('device/d1', [events.enrolled()])), lease);
    expect(await b.streamVersion('device/d1')).toBe(1);
    // A stalls past its lease; B takes over.
    await sleep(350);
    const taken = (await lb.acquire('t'))!;
    expect(taken.epoch).toBe(2);
    const stale = inBatch(a, async () => void (await a.appendToStream('device/d2', [events.enrolled()])), lease);
    await expect(stale).rejects.toBeInstanceOf(LeaseLostError);
    await expect(stale).rejects.toThrow(/lease t is no longer held by A at epoch 1/);
    expect(await b.streamVersion('device/d2')).toBe(0);
    // The new owner writes under its own fence; the old epoch stays refused even with the lease free again.
    await inBatch(b, async () => void (await b.appendToStream('device/d2', [events.enrolled()])), taken);
    await lb.release(taken);
    await expect(inBatch(a, async () => void (await a.appendToStream('device/d3', [events.enrolled()])), lease)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await b.streamVersion('device/d3')).toBe(0);
  });

  it("a tenant's view passes the fence to the store beneath: its batch commits while held, is refused once taken", async () => {
    const [a, b] = await twoStores();
    const view = scopeStore(a, 'acme');
    const la = a.leases({ owner: 'A', ttlMs: 300 });
    const lb = b.leases({ owner: 'B', ttlMs: 10_000 });
    const lease = (await la.acquire('orchestrator/acme'))!;
    await inBatch(view, async () => void (await view.appendToStream('device/v1', [events.enrolled()])), lease);
    expect(await view.streamVersion('device/v1')).toBe(1);
    await sleep(350);
    await lb.acquire('orchestrator/acme');
    await expect(inBatch(view, async () => void (await view.appendToStream('device/v2', [events.enrolled()])), lease)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await view.streamVersion('device/v2')).toBe(0);
  });

  it('a takeover waits for a fenced batch in flight, which commits whole', async () => {
    const [a, b] = await twoStores();
    const la = a.leases({ owner: 'A', ttlMs: 200 });
    const lb = b.leases({ owner: 'B', ttlMs: 10_000 });
    const lease = (await la.acquire('t'))!;
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    const batch = inBatch(
      a,
      async () => {
        await a.appendToStream('device/d1', [events.enrolled()]);
        await gate;
        await a.appendToStream('device/d1', [events.assessed()]);
      },
      lease,
    );
    await sleep(50);
    // The owner's renewal is not held up by its own batch (the batch's lock on the row is a key-share one).
    const renewing = la.renew(lease);
    expect(await settled(renewing, 2_000)).toBe('settled');
    expect(await renewing).toMatchObject({ owner: 'A', epoch: 1 });
    await sleep(300); // past the lease's time: it has lapsed, but the batch holds it
    const takeover = lb.acquire('t');
    expect(await settled(takeover)).toBe('pending');
    release();
    await batch;
    expect(await takeover).toMatchObject({ owner: 'B', epoch: 2 });
    expect(await b.streamVersion('device/d1')).toBe(2);
  });

  it('refuses a fence on a store that keeps no leases, and bad lease options', async () => {
    const memory = createInMemoryEventStore();
    await expect(inBatch(memory, async () => 1, { lease: 't', owner: 'A', epoch: 1 })).rejects.toBeInstanceOf(FencingUnsupportedError);
    const [a] = await twoStores();
    expect(() => a.leases({ owner: '', ttlMs: 1000 })).toThrow(InvalidStoreOptionsError);
    expect(() => a.leases({ owner: 'A', ttlMs: 5 })).toThrow(/ttlMs must be a whole number of milliseconds from 100/);
  });
});
