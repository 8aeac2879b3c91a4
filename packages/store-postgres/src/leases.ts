/**
 * Leases in PostgreSQL: a named right (a tenant's orchestration, say) held by one owner at a time, until a time by the
 * server's clock, renewed while the owner lives. Each change of hands moves the lease's epoch, the fencing token a
 * fenced batch is checked against (EventStore.fencedBatch): an owner that stalled past its lease writes nothing
 * after another took over. A lease is a row of the store's `leases` table (migration 5).
 */
import { InvalidStoreOptionsError } from '@hotpatch/store';
import type { Fence } from '@hotpatch/store';
import type { QueryResult } from 'pg';
import type { PostgresContext } from './context.js';
import { ConnectionLostError, isConnectionError } from './errors.js';

export interface LeaseOptions {
  /** Who holds the leases taken (an instance's id: unique per live process). */
  readonly owner: string;
  /** How long a lease lasts from its last renewal, in ms. */
  readonly ttlMs: number;
}

/** A lease as held: its fence (name, owner, epoch) and when it lapses unless renewed. */
export interface Lease extends Fence {
  readonly expiresAt: Date;
}

export interface PostgresLeases {
  readonly owner: string;
  readonly ttlMs: number;
  /** Takes the lease when it is free, lapsed or already this owner's; undefined when another owner holds it. */
  acquire(name: string): Promise<Lease | undefined>;
  /** Extends a lease still held at its epoch; undefined when it was lost (lapsed or taken: acquire it again). */
  renew(lease: Fence): Promise<Lease | undefined>;
  /** Gives a lease up now (another owner may take it at once); false when it was not held any more. */
  release(lease: Fence): Promise<boolean>;
  /** The leases held now (not lapsed) whose names begin with `prefix`, by name. */
  live(prefix?: string): Promise<Lease[]>;
}

interface LeaseRow {
  name: string;
  owner: string;
  epoch: string;
  expires_at: Date;
}

const toLease = (row: LeaseRow): Lease => ({ lease: row.name, owner: row.owner, epoch: Number(row.epoch), expiresAt: row.expires_at });

export function createLeases(ctx: PostgresContext, options: LeaseOptions): PostgresLeases {
  const { owner, ttlMs } = options;
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 200) throw new InvalidStoreOptionsError('PostgreSQL leases', 'owner', 'a non-empty string of at most 200 characters', owner);
  if (!Number.isInteger(ttlMs) || ttlMs < 100 || ttlMs > 3_600_000) throw new InvalidStoreOptionsError('PostgreSQL leases', 'ttlMs', 'a whole number of milliseconds from 100 to 3,600,000', ttlMs);
  const { pool, sql: q } = ctx;

  const run = async (operation: string, name: string, statement: { name: string; text: string }, values: unknown[]): Promise<QueryResult<LeaseRow>> => {
    ctx.open();
    try {
      return await pool.query<LeaseRow>({ ...statement, values });
    } catch (error) {
      throw isConnectionError(error) ? new ConnectionLostError(operation, name, error) : ctx.busy(error);
    }
  };

  return {
    owner,
    ttlMs,
    async acquire(name) {
      const { rows } = await run('lease acquire', name, q.acquireLease, [name, owner, ttlMs]);
      return rows.length === 1 ? toLease(rows[0]!) : undefined;
    },
    async renew(lease) {
      if (lease.owner !== owner) return undefined;
      const { rows } = await run('lease renew', lease.lease, q.renewLease, [lease.lease, owner, lease.epoch, ttlMs]);
      return rows.length === 1 ? toLease(rows[0]!) : undefined;
    },
    async release(lease) {
      if (lease.owner !== owner) return false;
      return (await run('lease release', lease.lease, q.releaseLease, [lease.lease, owner, lease.epoch])).rowCount === 1;
    },
    async live(prefix = '') {
      return (await run('lease list', prefix, q.liveLeases, [prefix])).rows.map(toLease);
    },
  };
}
