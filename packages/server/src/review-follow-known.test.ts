/**
 * Review: when nobody waits, the follower forgets where it last looked (seen = -1) and the next waiter's look starts
 * at `known()` (this instance's last append, its projections' positions), which on an instance that neither writes
 * nor ticks stays where it was at open: every new wait reads the whole log written since, again, and wakes waiters
 * for nothing. The look should start at the later of the two.
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
