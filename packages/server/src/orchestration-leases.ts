/**
 * Which tenants this instance orchestrates. Alone on a store (SQLite), every tenant; over a store that keeps leases
 * (PostgreSQL), those whose lease `orchestrator/<tenant>` it holds, ticked under the lease as their fence, so that
 * N instances over one log tick each tenant once (docs/service.md "Several instances").
 */
import type { Fence } from '@hotpatch/store';

/** A lease keeper as the service uses it (@hotpatch/store-postgres's createLeaseKeeper gives one). */
export interface OrchestrationKeeper {
  /** The lease held on `name` now; undefined when not held (or its time ran out locally). */
  fence(name: string): Fence | undefined;
  held(): string[];
  start(): void;
  /** Stops the rounds and releases every lease held. */
  stop(): Promise<void>;
}

/** Makes the keeper, over the names it is to spread (read each round). */
export type OrchestrationKeeperFactory = (names: () => readonly string[]) => OrchestrationKeeper;

export const ORCHESTRATOR_LEASE_PREFIX = 'orchestrator/';

export const orchestratorLease = (tenant: string): string => `${ORCHESTRATOR_LEASE_PREFIX}${tenant}`;

/** Whether to tick a tenant, and under which fence: { fence: undefined } alone (no keeper), undefined when not held. */
export function tickGrant(keeper: OrchestrationKeeper | undefined, tenant: string): { readonly fence?: Fence } | undefined {
  if (keeper === undefined) return {};
  const fence = keeper.fence(orchestratorLease(tenant));
  return fence === undefined ? undefined : { fence };
}
