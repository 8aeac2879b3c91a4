/**
 * Spreads a set of leases (one per tenant's orchestration, say) over the live instances that keep them: each holds
 * about its share (the names over the live instances, rounded up), renews what it holds, gives up what is over its
 * share, and takes lapsed or free ones, so that the leases of an instance that died are taken within a lease's time
 * and one round. An instance shows it is alive by a lease of its own (`instance/<owner>`).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Lease, PostgresLeases } from './leases.js';

export const INSTANCE_LEASE_PREFIX = 'instance/';

/** Which leases to give up and which to try to take, given what is held now. Pure. */
export function planLeases(input: {
  readonly owner: string;
  /** The leases to spread. */
  readonly names: readonly string[];
  /** Every live lease's holder, by name. */
  readonly holders: ReadonlyMap<string, string>;
  /** How many instances are alive (this one included). */
  readonly instances: number;
}): { readonly release: string[]; readonly acquire: string[] } {
  const { owner, names, holders } = input;
  const share = Math.ceil(names.length / Math.max(1, input.instances));
  const rank = (name: string) => createHash('sha256').update(`${owner}\n${name}`).digest('hex');
  const mine = names.filter((n) => holders.get(n) === owner);
  // Kept: the ones this owner ranks highest (rendezvous hashing), so instances agree on who keeps what without talking.
  const byRank = (a: string, b: string) => (rank(a) < rank(b) ? 1 : rank(a) > rank(b) ? -1 : 0);
  const release = [...mine].sort(byRank).slice(share);
  const free = names.filter((n) => !holders.has(n)).sort(byRank);
  const acquire = free.slice(0, Math.max(0, share - (mine.length - release.length)));
  return { release, acquire };
}

export interface LeaseKeeperOptions {
  readonly leases: PostgresLeases;
  /** The leases to spread (read each round: tenants come and go). */
  readonly names: () => readonly string[];
  /** How often a round runs, in ms (default a third of the lease's time). */
  readonly intervalMs?: number;
  readonly onGained?: (lease: Lease) => void;
  readonly onLost?: (name: string, why: 'lapsed' | 'released') => void;
  /** A round that failed (the database away): the keeper goes on; what it holds lapses locally in time. */
  readonly onError?: (error: unknown) => void;
}

export interface LeaseKeeper {
  /** The lease held on `name` now, with time left on it by this process's clock; undefined otherwise. */
  fence(name: string): Lease | undefined;
  held(): string[];
  /** One round now (the timer runs them too). */
  round(): Promise<void>;
  start(): void;
  /** Stops the rounds and releases every lease held (the instance's own too), so others take them at once. */
  stop(): Promise<void>;
}

export function createLeaseKeeper(options: LeaseKeeperOptions): LeaseKeeper {
  const { leases } = options;
  const intervalMs = options.intervalMs ?? Math.floor(leases.ttlMs / 3);
  const own = `${INSTANCE_LEASE_PREFIX}${leases.owner}`;
  /** Held leases, with the local time (performance.now()) past which they are treated as lost. */
  const held = new Map<string, { lease: Lease; until: number }>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const keep = (lease: Lease, askedAt: number) => held.set(lease.lease, { lease, until: askedAt + leases.ttlMs });
  const lose = (name: string, why: 'lapsed' | 'released') => {
    if (held.delete(name)) options.onLost?.(name, why);
  };

  const renewAll = async () => {
    for (const [name, { lease }] of [...held]) {
      const askedAt = performance.now();
      const renewed = await leases.renew(lease);
      if (renewed === undefined) lose(name, 'lapsed');
      else keep(renewed, askedAt);
    }
  };

  const once = async () => {
    // Leases whose time ran out locally are lost, whatever the database says later.
    const now = performance.now();
    for (const [name, entry] of [...held]) if (entry.until <= now) lose(name, 'lapsed');
    if (!held.has(own)) {
      const askedAt = performance.now();
      const mine = await leases.acquire(own);
      if (mine !== undefined) keep(mine, askedAt);
    }
    await renewAll();
    const live = await leases.live();
    const holders = new Map(live.map((l) => [l.lease, l.owner] as const));
    const instances = live.filter((l) => l.lease.startsWith(INSTANCE_LEASE_PREFIX)).length;
    const plan = planLeases({ owner: leases.owner, names: options.names(), holders, instances });
    for (const name of plan.release) {
      const entry = held.get(name);
      if (entry === undefined) continue;
      held.delete(name);
      options.onLost?.(name, 'released');
      await leases.release(entry.lease);
    }
    // Held by this owner in the database but not here (a round cut short after the acquire): taken again, same epoch.
    const unknown = [...holders].filter(([name, holder]) => holder === leases.owner && name !== own && !held.has(name) && !plan.release.includes(name)).map(([name]) => name);
    for (const name of [...unknown, ...plan.acquire]) {
      const askedAt = performance.now();
      const lease = await leases.acquire(name);
      if (lease === undefined) continue;
      keep(lease, askedAt);
      options.onGained?.(lease);
    }
  };

  const round = () => {
    running ??= once()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => (running = undefined));
    return running;
  };

  return {
    fence(name) {
      const entry = held.get(name);
      return entry !== undefined && entry.until > performance.now() ? entry.lease : undefined;
    },
    // As fence(): a lease whose time ran out locally is not held, even before the next round drops it.
    held: () => [...held].filter(([n, entry]) => n !== own && entry.until > performance.now()).map(([n]) => n).sort(),
    round,
    start() {
      if (timer !== undefined) return;
      void round();
      timer = setInterval(() => void round(), intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
      for (const [name, { lease }] of [...held]) {
        held.delete(name);
        if (name !== own) options.onLost?.(name, 'released');
        await leases.release(lease).catch(() => false);
      }
    },
  };
}
