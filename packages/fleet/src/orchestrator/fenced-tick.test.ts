/**
 * Ticks fenced by a lease (issue 22, several instances): an instance that stalled past its lease writes nothing once
 * another took over, and the new owner carries the rollout on, every device instructed once. On a real PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FencingUnsupportedError, LeaseLostError, createInMemoryEventStore } from '@hotpatch/store';
import type { PostgresEventStore } from '@hotpatch/store-postgres';
import { simulatedClock } from '../clock.js';
import { createOrchestrator } from './shell.js';
import { BACKENDS, devicesOf, enrol, removeFiles } from './testing/concurrency.js';
import { HOTPATCH, POLICY, RELEASED } from './testing/given.js';

afterAll(removeFiles);
const postgres = BACKENDS.find((b) => b.name === 'PostgreSQL')!;

describe('a fenced tick', () => {
  it('is refused by a store that keeps no leases, before anything is decided', async () => {
    const store = createInMemoryEventStore();
    const o = createOrchestrator({ store, clock: simulatedClock(RELEASED), policy: POLICY });
    await expect(o.tick({ fence: { lease: 't', owner: 'a', epoch: 1 } })).rejects.toBeInstanceOf(FencingUnsupportedError);
    expect(await store.readAll()).toEqual([]);
  });

  it.skipIf(postgres.skip !== undefined)('writes nothing once its lease was taken over; the new owner instructs each device once', async () => {
    const db = await postgres.create();
    try {
      const clock = simulatedClock(RELEASED);
      const pilot = devicesOf('pilot', 12);
      await enrol(db.store, clock, { pilot, broad: devicesOf('broad', 20) });
      const storeB = (await db.another()) as PostgresEventStore;
      const leasesA = (db.store as PostgresEventStore).leases({ owner: 'A', ttlMs: 300 });
      const leasesB = storeB.leases({ owner: 'B', ttlMs: 60_000 });
      const a = createOrchestrator({ store: db.store, clock, policy: POLICY, meta: { instance: 'A' } });
      const b = createOrchestrator({ store: storeB, clock, policy: POLICY, meta: { instance: 'B' } });
      await a.planRollout(HOTPATCH);
      const leaseA = (await leasesA.acquire('orchestrator/default'))!;
      const first = await a.tick({ fence: leaseA });
      expect(first.instructed).toBeGreaterThan(0);

      // A stalls past its lease; B takes it over. A's next tick (its ring's timeouts, say) writes nothing.
      await new Promise((ok) => setTimeout(ok, 350));
      const leaseB = (await leasesB.acquire('orchestrator/default'))!;
      expect(leaseB.epoch).toBe(leaseA.epoch + 1);
      const before = (await db.store.readAll()).length;
      clock.advance(40 * 24 * 3600);
      await expect(a.tick({ fence: leaseA })).rejects.toBeInstanceOf(LeaseLostError);
      expect((await db.store.readAll()).length).toBe(before);
      const next = await b.tick({ fence: leaseB });
      expect(next.timedOut + next.setAside).toBeGreaterThan(0);

      const instructed = (await db.store.readAll()).filter((e) => e.type === 'DeviceInstructed');
      const devices = instructed.map((e) => (e.data as { device: string }).device);
      expect(new Set(devices).size).toBe(devices.length);
      expect(instructed.every((e) => e.meta?.instance === 'A')).toBe(true);
    } finally {
      await db.dispose();
    }
  });
});
