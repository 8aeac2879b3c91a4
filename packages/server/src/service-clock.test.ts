import { createInMemoryEventStore } from '@hotpatch/store';
import { describe, expect, it } from 'vitest';
import { lastEvent, serviceClock } from './service-clock.js';

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
});
