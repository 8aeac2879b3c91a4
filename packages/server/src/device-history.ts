/**
 * A device of a tenant as `hotpatch history --device` gives it: each of its events with its state before and after.
 * Read from the tenant's own store, so another tenant's device is one that has no events. A named tenant's events
 * are under its local names: their hashes cover the names as stored, so they are folded without them (as
 * `hotpatch history --tenant` does); `GET /v1/verify` checks them.
 */
import { deviceStream } from '@hotpatch/core';
import { deviceHistory, type HistoryStep } from '@hotpatch/replay';
import { DEFAULT_TENANT, type Tenant } from './tenants.js';

/** `upTo`: the last log position to read (the console's view is read to one); empty: the tenant has no such device. */
export async function tenantDeviceHistory(tenant: Tenant, id: string, upTo = Infinity): Promise<HistoryStep[]> {
  const events = (await tenant.store.readStream(deviceStream(id))).filter((e) => e.position <= upTo);
  return deviceHistory({ events: tenant.name === DEFAULT_TENANT ? events : events.map(({ hash: _hash, ...e }) => e) }, id);
}
