/**
 * Tenants: each request is served by the tenant its caller resolves to — its store view, its orchestrator, and the
 * party it acts as (an operator as the service, a tenant admin as the tenant). One function (`resolve`) decides it
 * for every route. This build serves one tenant, `default`, over the whole store; a scoped store per tenant
 * (`tenant/<t>/…` streams) plugs in here, and a foreign or unknown tenant answers as a missing resource (404).
 */
import type { PauseParty } from '@hotpatch/core';
import type { Orchestrator } from '@hotpatch/fleet';
import type { EventStore } from '@hotpatch/store';
import { HttpProblem } from './problem.js';
import type { Caller } from './tokens.js';

export const DEFAULT_TENANT = 'default';

/** What serves one tenant. */
export interface Tenant {
  readonly name: string;
  /** The tenant's view of the store (today the whole store, for the default tenant). */
  readonly store: EventStore;
  readonly orchestrator: Orchestrator;
}

/** A tenant as one request sees it: the tenant, and who the caller acts as in it. */
export interface Scope {
  readonly tenant: Tenant;
  /** Whose pause a pause or resume is: the service's (an operator) or the tenant's (a tenant admin). */
  readonly party: PauseParty;
  /** The device an agent's token is bound to, or null. */
  readonly device: string | null;
  /** Whether the caller sees the service-level streams (tokens): callers not bound to a tenant. */
  readonly serviceWide: boolean;
}

export class Tenants {
  private readonly byName = new Map<string, Tenant>();

  add(tenant: Tenant): void {
    this.byName.set(tenant.name, tenant);
  }

  all(): Tenant[] {
    return [...this.byName.values()];
  }

  /** The tenant a caller's request is served by. An operator or service-wide auditor is the default tenant's here. */
  resolve(caller: Caller): Scope {
    const name = caller.tenant ?? DEFAULT_TENANT;
    const tenant = this.byName.get(name);
    if (tenant === undefined) throw new HttpProblem(404, 'UNKNOWN_TENANT', `this service serves no tenant ${name}`, { tenant: name });
    return { tenant, party: caller.role === 'tenant-admin' ? 'tenant' : 'service', device: caller.device, serviceWide: caller.tenant === null };
  }
}
