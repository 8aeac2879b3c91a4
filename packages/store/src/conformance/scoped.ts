/**
 * The conformance suite on a tenant's view (scopeStore): the store beneath opened as the test opens it, with
 * events of other tenants written first under the same kinds of names, so that every read the suite makes has
 * another tenant's events to leave out.
 */
import { scopeStore } from '../scope.js';
import { events, type StoreUnderTest } from './fixtures.js';

/** Opens `open`'s store and gives tenant `tenant`'s view of it (the default tenant's for `default`). */
export function scopedUnderTest(open: () => Promise<StoreUnderTest>, tenant: string): () => Promise<StoreUnderTest> {
  return async () => {
    const beneath = await open();
    const others = ['tenant/other/device/neighbour', 'tenant/other/ring/pilot', ...(tenant === 'default' ? [] : ['device/neighbour'])];
    for (const stream of others) {
      const event = stream.endsWith('/pilot') ? { type: 'RingPaused', time: '2026-03-02T10:00:00.000Z', data: { by: 'tenant', reason: 'freeze' } } : events.enrolled();
      await beneath.store.appendToStream(stream, [event]);
    }
    const view = scopeStore(beneath.store, tenant);
    return {
      store: view,
      ...(beneath.reopen === undefined ? {} : { reopen: async () => scopeStore(await beneath.reopen!(), tenant) }),
      asStored: (event) => view.storedEvent(event),
      tenantView: true,
      cleanup: async () => {
        await view.close();
        await beneath.cleanup();
      },
    };
  };
}
