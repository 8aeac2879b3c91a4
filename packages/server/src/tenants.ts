/**
 * Tenants: each request is served by the tenant its caller resolves to — its store view, its orchestrator, and the
 * party it acts as (an operator as the service, a tenant admin as the tenant). One function (`resolve`) decides it
 * for every route.
 *
 * A tenant exists once a token bound to it was issued (the default tenant always): the service learns them from the
 * `token/…` streams of the log, read forward from where it last read (at start, at each tick, and when a request
 * names a tenant it does not know yet), so every instance over the log sees a tenant another made. A tenant's store
 * view (`scopeStore`, with the service's id key) and orchestrator are made on its first use. A tenant the service
 * does not know, and any tenant but its own named by a caller bound to a tenant, answers 404 `UNKNOWN_TENANT`,
 * whether or not it exists: nothing of another tenant is visible.
 */
import { DEFAULT_TENANT, toStreamName, type PauseParty, type StreamKindName } from '@hotpatch/core';
import type { Orchestrator } from '@hotpatch/fleet';
import { readLogPages, type EventStore } from '@hotpatch/store';
import { HttpProblem } from './problem.js';
import type { Caller } from './tokens.js';

/** The tenant of a caller bound to none, and of the streams without a tenant prefix (core's). */
export { DEFAULT_TENANT };

/** The header an operator or a service-wide auditor names the tenant of a request with (default: `default`). */
export const TENANT_HEADER = 'hotpatch-tenant';

/** What serves one tenant. */
export interface Tenant {
  readonly name: string;
  /** The tenant's view of the store: its streams under their local names, its ids as it wrote them. */
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
  /** Whether the caller is not bound to a tenant (an operator, a service-wide auditor): it reads the whole log. */
  readonly serviceWide: boolean;
}

/** The stream name the log holds for a tenant's stream (what the service's append observer is told). */
export const storedStreamName = (tenant: string, kind: StreamKindName, id: string): string => toStreamName(kind, id, tenant);

const scopeFor = (caller: Caller, tenant: Tenant): Scope => ({ tenant, party: caller.role === 'tenant-admin' ? 'tenant' : 'service', device: caller.device, serviceWide: caller.tenant === null });

const unknownTenant = (name: string) => new HttpProblem(404, 'UNKNOWN_TENANT', `this service serves no tenant ${name}`, { tenant: name });

export class Tenants {
  private readonly made = new Map<string, Promise<Tenant>>();
  /** The tenants made, once made (what `resolveNow` answers with). */
  private readonly ready = new Map<string, Tenant>();
  private readonly known = new Set<string>([DEFAULT_TENANT]);
  /** The log position up to which the token streams were read. */
  private scanned = 0;
  private scanning: Promise<void> | undefined;

  /**
   * @param log the whole store (tokens are the service's streams)
   * @param make a tenant's view and orchestrator, caught up with the log
   */
  constructor(
    private readonly log: EventStore,
    private readonly make: (name: string) => Promise<Tenant>,
  ) {}

  /** The names of the tenants known: the default, and every tenant a token was issued for. */
  names(): string[] {
    return [...this.known];
  }

  /** Reads the token streams the log gained since the last read: a token bound to a new tenant makes it known. */
  refresh(): Promise<void> {
    this.scanning ??= (async () => {
      try {
        for await (const page of readLogPages(this.log, { fromPosition: this.scanned + 1, pageSize: 1000 })) {
          for (const e of page) {
            const tenant = e.type === 'TokenIssued' ? (e.data as { tenant?: unknown }).tenant : undefined;
            if (typeof tenant === 'string') this.known.add(tenant);
          }
          this.scanned = page.at(-1)?.position ?? this.scanned;
        }
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  /** A known tenant, made on its first use; undefined for a tenant no token was issued for. */
  async get(name: string): Promise<Tenant | undefined> {
    if (!this.known.has(name)) await this.refresh();
    if (!this.known.has(name)) return undefined;
    return this.tenant(name);
  }

  /** Every known tenant, each made (the tick loop ticks them all). */
  async every(): Promise<Tenant[]> {
    await this.refresh();
    return Promise.all(this.names().map((name) => this.tenant(name)));
  }

  private tenant(name: string): Promise<Tenant> {
    let tenant = this.made.get(name);
    if (tenant === undefined) {
      tenant = this.make(name);
      this.made.set(name, tenant);
      tenant.then(
        (made) => {
          if (this.made.get(name) === tenant) this.ready.set(name, made);
        },
        () => this.made.delete(name),
      );
    }
    return tenant;
  }

  /**
   * The tenant a caller's request is served by: a caller bound to a tenant, its own (naming another is 404, as a
   * tenant that does not exist); an operator or service-wide auditor, the one it names (`requested`), by default the
   * default tenant.
   */
  async resolve(caller: Caller, requested: string | undefined): Promise<Scope> {
    const name = this.nameFor(caller, requested);
    const tenant = await this.get(name);
    if (tenant === undefined) throw unknownTenant(name);
    return scopeFor(caller, tenant);
  }

  /**
   * The same, at once, when the tenant is made already (every request but a tenant's first): no promise to wait on.
   * Undefined when it is not: ask `resolve`. A caller bound to another tenant than the one it names: thrown.
   */
  resolveNow(caller: Caller, requested: string | undefined): Scope | undefined {
    const tenant = this.ready.get(this.nameFor(caller, requested));
    return tenant === undefined ? undefined : scopeFor(caller, tenant);
  }

  private nameFor(caller: Caller, requested: string | undefined): string {
    if (caller.tenant !== null && requested !== undefined && requested !== caller.tenant) throw unknownTenant(requested);
    // A token bound to a tenant is the proof that it exists.
    if (caller.tenant !== null) this.known.add(caller.tenant);
    return caller.tenant ?? requested ?? DEFAULT_TENANT;
  }
}
