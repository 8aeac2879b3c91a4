/**
 * When waiting starts again after nobody waited, the follower's look starts at the later of `known()` (this instance's
 * last append, its projections' positions) and where its last look ended: from `known()` alone, an instance that
 * neither writes nor ticks read again, at every new wait, the whole log written since it opened.
 */
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { Changes } from './changes.js';
import { followLog } from './follow-log.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the follower between waits', () => {
  it('does not read again what it read before nobody waited', async () => {
    const store = createInMemoryEventStore();
    for (let i = 1; i <= 50; i++) await store.appendToStream(`ring/r${i}`, [{ type: 'RingPaused', time: '2026-01-01T00:00:00.000Z', data: { by: 'tenant', reason: 'x' } }]);
    let read = 0;
    const counting = { readAll: async (o: Parameters<EventStore['readAll']>[0]) => { const r = await store.readAll(o); read += r.length; return r; } } as unknown as EventStore;
    const changes = new Changes();
    const follower = followLog(counting, changes, { pollMs: 20, page: 10, known: () => 0 });
    try {
      const first = changes.waiter('device/x');
      await sleep(100);
      expect(read).toBe(50);
      first.cancel();
      await sleep(100);
      read = 0;
      const second = changes.waiter('device/x');
      await sleep(100);
      second.cancel();
      expect(read).toBe(0);
    } finally {
      changes.close();
      await follower.stop();
    }
  });
});
