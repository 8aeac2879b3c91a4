/**
 * `hotpatch serve` over PostgreSQL: the keeper of the tenants' orchestration leases, so that several instances over
 * one store share the ticks (each tenant's by one live instance at a time; a dead instance's tenants taken within
 * 15 s: a 10 s lease, rounds every 3 s). A store without leases (SQLite) gets none: its one instance ticks every tenant.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EventStore } from '@hotpatch/store';
import { createLeaseKeeper, type PostgresLeases } from '@hotpatch/store-postgres';
import type { OrchestrationKeeperFactory, ServiceLog } from '@hotpatch/server';

export const ORCHESTRATION_LEASE_MS = 10_000;
export const ORCHESTRATION_ROUND_MS = 3_000;

type LeasingStore = EventStore & { leases(options: { owner: string; ttlMs: number }): PostgresLeases };

const keepsLeases = (store: EventStore): store is LeasingStore => typeof (store as Partial<LeasingStore>).leases === 'function';

/**
 * When the store keeps leases: this instance's id (the leases' owner, also recorded in the meta of the events it
 * writes) and the keeper factory for the service; undefined otherwise. `log` is read when it logs; `storeFailed`
 * (the service's) says whether an error was the store away, logged once for the outage there.
 */
export function orchestrationLeasesFor(store: EventStore, log: () => ServiceLog | undefined, storeFailed: (error: unknown) => boolean = () => false): { readonly instance: string; readonly factory: OrchestrationKeeperFactory } | undefined {
  if (!keepsLeases(store)) return undefined;
  const owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const factory: OrchestrationKeeperFactory = (names) =>
    createLeaseKeeper({
      leases: store.leases({ owner, ttlMs: ORCHESTRATION_LEASE_MS }),
      names,
      intervalMs: ORCHESTRATION_ROUND_MS,
      onGained: (lease) => log()?.info({ lease: lease.lease, owner, epoch: lease.epoch }, 'lease gained'),
      onLost: (name, why) => log()?.info({ lease: name, owner, why }, 'lease lost'),
      // The database away is logged once by the service (storeFailed), not at every round.
      onError: (error) => (storeFailed(error) ? undefined : log()?.error({ err: error, owner }, 'lease round failed')),
    });
  return { instance: owner, factory };
}
