import { describeEventStoreConformance } from '../test/conformance.js';
import { createInMemoryEventStore } from './memory-store.js';
import { describe, expect, it } from 'vitest';

describeEventStoreConformance('in-memory', async () => {
  const store = createInMemoryEventStore();
  return { store, cleanup: () => store.close() };
});

describe('in-memory store', () => {
  it('returns frozen events, so a reader cannot change the log', async () => {
    const store = createInMemoryEventStore();
    await store.appendToStream('device/x', [{ type: 'DeviceEnrolled', time: '2026-01-01T00:00:00.000Z', data: { edition: 'E', build: '1', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: true, ring: 'r', baseline: 'B' } }]);
    const [event] = await store.readStream('device/x');
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event!.data)).toBe(true);
  });
});
