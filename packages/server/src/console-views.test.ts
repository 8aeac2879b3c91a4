/**
 * The console's views: at most `max` kept, and one first read of a tenant's log at a time, whatever the views asked
 * for at once (a first read holds what `hotpatch report` holds: over a gigabyte on the 100,000-device year).
 */
import type { EventStore, RecordedEvent } from '@hotpatch/store';
import { describe, expect, it } from 'vitest';
import { ConsoleViews } from './console-views.js';
import type { Tenant } from './tenants.js';

describe('the console’s views', () => {
  it('read one view’s log whole at a time, however many are asked for at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reading = 0;
    let most = 0;
    const store = {
      async readAll(): Promise<RecordedEvent[]> {
        most = Math.max(most, ++reading);
        await gate;
        reading--;
        return [];
      },
    } as unknown as EventStore;
    const tenant = { name: 'default', store, orchestrator: {} } as unknown as Tenant;
    const views = new ConsoleViews();
    const asked = ['R-1', 'R-2', 'R-3'].map((id) => views.data(tenant, { kind: 'rollout', id }));
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(most).toBe(1);
    release();
    // An empty log: nothing of any of them.
    expect(await Promise.all(asked)).toEqual(asked.map(() => ({ position: 0, data: null })));
    expect(most).toBe(1);
  });
});
