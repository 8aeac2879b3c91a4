import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryEventStore, DatabaseBusyError, type EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { describe, expect, it } from 'vitest';
import { HotpatchService } from './service.js';
import { CLOCK_ANCHOR, lastEvent, serviceClock } from './service-clock.js';

const enrolled = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B-2026-01' };

describe('the service clock', () => {
  it('finds the log’s last event, whatever its length', async () => {
    const store = createInMemoryEventStore();
    expect(await lastEvent(store)).toBeUndefined();
    for (let n = 1; n <= 70; n++) {
      await store.appendToStream(`device/d${n}`, [{ id: crypto.randomUUID(), type: 'DeviceEnrolled', time: new Date(Date.UTC(2030, 0, 1, 0, n)).toISOString(), data: enrolled }]);
      expect((await lastEvent(store))?.position).toBe(n);
    }
  });

  it('goes on from the log’s latest time when it is later than now; speed 1 is the system clock', async () => {
    const store = createInMemoryEventStore();
    await store.appendToStream('device/d1', [{ id: crypto.randomUUID(), type: 'DeviceEnrolled', time: '2100-01-01T00:00:00.000Z', data: enrolled }]);
    expect((await serviceClock(store, 3600)).now().toISOString() >= '2100-01-01T00:00:00.000Z').toBe(true);
    expect(Math.abs((await serviceClock(store, 1)).now().getTime() - Date.now())).toBeLessThan(1_000);
  });

  it('is one clock for the instances over one store: one started later reads the same time', async () => {
    // Two instances at 3600x started 1.5 s apart ran clocks 1.5 hours apart: a report taken by one was dated before
    // the ring the other had started, an apply timed out by the one ahead.
    const dir = mkdtempSync(join(tmpdir(), 'hotpatch-clock-'));
    const stores = [openSqliteEventStore({ path: join(dir, 'fleet.db') }), openSqliteEventStore({ path: join(dir, 'fleet.db') })];
    try {
      const first = await HotpatchService.open({ store: stores[0]!, speed: 3600, tickIntervalMs: 100 });
      first.start();
      await new Promise((ok) => setTimeout(ok, 1_500));
      const second = await HotpatchService.open({ store: stores[1]!, speed: 3600, tickIntervalMs: 100 });
      second.start();
      const apart = Math.abs(first.clock.now().getTime() - second.clock.now().getTime());
      await Promise.all([first.stop(), second.stop()]);
      expect(apart, `${apart / 1000} s of the services' time apart`).toBeLessThan(60_000);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never goes back on a restart after its shared reading went stale: it starts from that reading at least', async () => {
    // A sped-up service idle for a while, stopped, started again 20 s later: its reading was 15 s old (stale), the
    // log's latest event older still; it started from the real time again, 5 hours of its time back (found by review).
    const store = createInMemoryEventStore();
    let real = Date.UTC(2026, 11, 7, 12);
    const first = await serviceClock(store, 3600, () => real);
    real += 5_000;
    await first.refresh!();
    const last = first.now().getTime();
    real += 15_000;
    const again = await serviceClock(store, 3600, () => real);
    expect(again.now().getTime()).toBeGreaterThanOrEqual(last);
  });

  it('a reading it cannot save does not fail the tick nor mark the store away', async () => {
    // The reading's save sat in the tick's first step: the write lock held a moment by another process made every
    // tenant's tick skip and hotpatch_store_available 0 at --speed, where an idle tick at speed 1 writes nothing.
    const memory = createInMemoryEventStore();
    let refuse = false;
    const store = new Proxy(memory, {
      get: (target, key) =>
        key === 'saveProjection'
          ? (name: string, ...rest: unknown[]) => (refuse && name === CLOCK_ANCHOR ? Promise.reject(new DatabaseBusyError('fleet.db', 200)) : (target.saveProjection as (...a: unknown[]) => Promise<void>)(name, ...rest))
          : Reflect.get(target, key),
    }) as EventStore;
    const service = await HotpatchService.open({ store, speed: 3600, tickIntervalMs: 0 });
    refuse = true;
    await service.tickOnce();
    const metrics = await service.metrics.registry.metrics();
    expect(metrics).toMatch(/^hotpatch_tick_failures_total 0$/m);
    expect(metrics).toMatch(/^hotpatch_store_available 1$/m);
    await service.stop();
  });
});
