/**
 * A named tenant's view (scopeStore) drops VERIFIED_HASHES, so the store beneath hashes the events it stores under the
 * tenant's prefix and masked ids: passed on, the hashes (taken over the local names and ids) were not the ones the
 * stored content gives. The default tenant's view, whose names and ids are the store's, passes them on.
 */
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from './memory-store.js';
import { scopeStore } from './scope.js';
import { eventHash, GENESIS_HASH } from './hash.js';
import { VERIFIED_HASHES, type VerifiedAppendOptions } from './verified-hashes.js';
import { IDS, time } from '../test/tenant-isolation.js';

describe('a tenant’s view and a checked run’s hashes', () => {
  it('never stores an event whose hash its stored content does not give', async () => {
    const shared = createInMemoryEventStore();
    const acme = scopeStore(shared, 'acme');
    const event = { id: IDS[0]!, type: 'RingPaused', time: time(0), data: { by: 'tenant', reason: 'freeze' } };
    // The hash as a file of the tenant's (its local names and ids) would carry it.
    const local = eventHash(GENESIS_HASH, { ...event, stream: 'ring/pilot', version: 1 });
    const options: VerifiedAppendOptions = { expectedVersion: 0, [VERIFIED_HASHES]: { prev: GENESIS_HASH, hashes: [local] } };
    await acme.appendToStream('ring/pilot', [event], options).catch(() => undefined);
    for (const stored of await shared.readAll()) {
      expect(stored.hash).toBe(eventHash(GENESIS_HASH, stored));
    }
  });
});
