/**
 * The PostgreSQL event store (pg): one log shared by several service instances and processes. How its global order
 * stays trustworthy while writers commit out of order, how an append and a batch run, and what a lost connection
 * means: see the README. This file opens the store and hands each call to the file of its concern.
 */
import { InvalidEventError } from '@hotpatch/core';
import { checkStreamName, DatabaseBusyError, InvalidStoreOptionsError, machineFingerprintFor, StateCache, StoreClosedError, StoreReadOnlyError, type EventHandler, type EventStore, type Fence, type Subscription } from '@hotpatch/store';
import pg from 'pg';
// The options and `pool` name pg's types by name (not `pg.Pool`): the declarations then compile without esModuleInterop.
import type { Pool, PoolConfig } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createAppend } from './append.js';
import { createBatchAppend, createBatchPreload } from './batch-append.js';
import { createBatchReads } from './batch-read.js';
import { createBatches } from './batch.js';
import { createConnections } from './connection.js';
import type { PostgresContext } from './context.js';
import { ConnectionLostError, isConnectionError } from './errors.js';
import { LogIndex } from './log-index.js';
import { describeServer, sessionSetup, openSchema } from './open-database.js';
import { createLeases, type LeaseOptions, type PostgresLeases } from './leases.js';
import { createProjections } from './projections.js';
import { createReads } from './read.js';
import { boundedClient } from './silent-server.js';
import { prepareStatements } from './statements.js';
import { createStreamStates } from './state.js';
import { createConsumers, type PostgresSubscribeOptions } from './subscribe.js';

/** The store's calls that close() waits for. */
const TRACKED = ['appendToStream', 'readStream', 'readAll', 'readEvent', 'streamVersion', 'readState', 'willAppend', 'readCheckpoint', 'saveCheckpoint', 'batch', 'fencedBatch', 'readProjection', 'saveProjection', 'streamHeads'] as const;

export interface PostgresEventStoreOptions extends Omit<PoolConfig, 'Client'> {
  /** The schema that holds the store's tables (created and migrated on open, unless `readonly`; default "hotpatch"). */
  readonly schema?: string;
  /**
   * Open only to read (default false): the schema must exist and hold a hotpatch store of this build's schema
   * (NotAStoreError, SchemaTooNewError, SchemaNotMigratedError otherwise); it is never created or migrated, every
   * session is read-only (default_transaction_read_only), and writes are refused (StoreReadOnlyError).
   */
  readonly readonly?: boolean;
  /** Generates event ids where an event has none (default: UUID v7). */
  readonly newId?: () => string;
  /** The machine fingerprint snapshots are written and accepted with (default: this build's, per kind of stream). */
  readonly machineFingerprint?: string;
  /**
   * How many streams' heads and states this store keeps from its own last writes (default 10,000; 0: none): an
   * append to one of them skips reading the stream first (one round trip instead of two). Only a guess, checked by
   * the write: another instance's appends are found then, and the append reads and tries again.
   */
  readonly stateCacheSize?: number;
  /**
   * The server ends a transaction of this store's left idle this long, in ms (default 10,000; 0: never): a batch
   * whose caller stopped calling (it holds the log head, and every other writer waits for it), a projection saved in
   * parts. (An append outside a batch is one statement and holds nothing open between round trips.)
   */
  readonly idleInTransactionTimeoutMs?: number;
  /**
   * How long a write waits for a lock another writer holds, in ms (default 10,000; 0: for ever), as the SQLite store
   * waits for its write lock: a batch (an import, an orchestrator's unit of work) holds the log head to its commit,
   * and every other writer waits for it. Past it: DatabaseBusyError, nothing written.
   */
  readonly busyTimeoutMs?: number;
  /**
   * A server that stops answering without closing the connection (a network that drops packets): when a statement
   * has heard nothing from the server for this long, in ms (default 2,000; 0: never), the store checks over a new
   * connection whether it still runs there. Still at work (a lock wait, an index build, a long commit): waited for.
   * Otherwise, or if the check does not answer within `connectTimeoutMs`, its connection is destroyed:
   * ConnectionLostError, within about queryTimeoutMs + connectTimeoutMs. See silent-server.ts.
   */
  readonly queryTimeoutMs?: number;
  /** How long a new connection may take to be ready, in ms (default 3,000; 0: for ever); past it ConnectionLostError (DatabaseUnavailableError at open). */
  readonly connectTimeoutMs?: number;
}

export interface PostgresEventStore extends EventStore {
  readonly schema: string;
  /** The store's connection pool, for tools and tests (read through it, do not write behind the store's back). */
  readonly pool: Pool;
  /** Every stream's last hash, for a digest of the whole log. */
  streamHeads(): Promise<Array<[string, string]>>;
  subscribe(consumer: string, handler: EventHandler, options?: PostgresSubscribeOptions): Subscription;
  /**
   * Resolves when the log may have grown: a NOTIFY of an append by any process on the database, this store's own
   * append, a LISTEN (re)started (notifications before it are lost: read again), after `ms`, or on abort. A hint to
   * read again, never a promise that something was written.
   */
  waitForNews(ms: number, signal: AbortSignal): Promise<void>;
  fencedBatch<T>(fence: Fence, fn: () => Promise<T>): Promise<T>;
  /** The store's leases, held as `owner` for `ttlMs` at a time (see leases.ts). */
  leases(options: LeaseOptions): PostgresLeases;
}

/** Opens the store: connects, applies missing migrations to the schema, and returns the store. */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  const { schema = 'hotpatch', readonly = false, newId = uuidv7, machineFingerprint, idleInTransactionTimeoutMs = 10_000, busyTimeoutMs = 10_000, queryTimeoutMs = 2_000, connectTimeoutMs = 3_000, stateCacheSize = 10_000, ...poolConfig } = options;
  // PostgreSQL takes these as its timeouts (ms, a 32-bit whole number): refused here by name, not by the server at connect.
  for (const [option, value] of [['busyTimeoutMs', busyTimeoutMs], ['idleInTransactionTimeoutMs', idleInTransactionTimeoutMs], ['queryTimeoutMs', queryTimeoutMs], ['connectTimeoutMs', connectTimeoutMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || value > 2_147_483_647) throw new InvalidStoreOptionsError('PostgreSQL event store', option, 'a whole number of ms from 0 to 2147483647 (0: no limit)', value);
  }
  const sql = prepareStatements(schema, idleInTransactionTimeoutMs);
  /** The head and state this store last wrote for each recently appended stream (see append.ts). */
  const heads = new StateCache(stateCacheSize);
  const server = describeServer(poolConfig);
  const Client = boundedClient({ server, queryTimeoutMs, connectTimeoutMs });
  const pool = new pg.Pool({ ...poolConfig, Client, onConnect: sessionSetup(poolConfig.onConnect, readonly ? ['SET default_transaction_read_only = on'] : busyTimeoutMs > 0 ? [`SET lock_timeout = ${busyTimeoutMs}`] : []) });
  // An idle connection that breaks is dropped by the pool, which opens another when one is needed.
  pool.on('error', () => {});

  try {
    await openSchema(pool, schema, server, readonly);
  } catch (error) {
    await pool.end().catch(() => {});
    throw isConnectionError(error) ? new ConnectionLostError('open', undefined, error) : error;
  }

  let closed = false;
  let closing: Promise<void> | undefined;
  /** The store's calls not settled yet: close() waits for them. */
  const inFlight = new Set<Promise<unknown>>();
  const tracked =
    <A extends unknown[], T>(call: (...args: A) => Promise<T>) =>
    (...args: A): Promise<T> => {
      const running = call(...args);
      inFlight.add(running);
      const settled = () => void inFlight.delete(running);
      running.then(settled, settled);
      return running;
    };
  const mutable = (operation: string) => {
    if (readonly) throw new StoreReadOnlyError(`PostgreSQL event store (${server}, schema ${schema})`, operation);
  };
  const ctx: PostgresContext = {
    schema,
    pool,
    poolConfig,
    Client,
    sql,
    channel: `${schema}.events`,
    readonly,
    newId,
    machineOf: (stream) => machineFingerprint ?? machineFingerprintFor(stream),
    stateCacheSize,
    busy: (error) => ((error as { code?: unknown })?.code === '55P03' ? new DatabaseBusyError(server, busyTimeoutMs) : error),
    open: () => {
      if (closed) throw new StoreClosedError(`PostgreSQL event store (schema ${schema})`);
    },
    isClosed: () => closed,
  };
  const consumers = createConsumers(ctx, () => store);
  /** What this store knows of the log: which ids and streams it surely does not hold, which cached heads are exact. */
  const index = new LogIndex(heads);
  const batches = createBatches(ctx, index, (batch) => {
    if (batch.lastPosition !== undefined) index.committed(batch.heads, batch.caughtUp, batch.lastPosition);
    if (batch.written) consumers.wake();
  });
  /**
   * Waits for a batch of another caller, then checks the store is still open: after the wait, so that a call made
   * before close() and not yet run is StoreClosedError.
   */
  const ready = async () => {
    await batches.ready();
    ctx.open();
  };
  const connections = createConnections(ctx, batches);
  const fromBatch = createBatchReads(index);
  const states = createStreamStates(ctx, connections, fromBatch, heads);
  const append = createAppend(ctx, states, heads);
  const appendInBatch = createBatchAppend(ctx, batches, states, index);
  const preload = createBatchPreload(ctx, batches, states, index);
  const reads = createReads(ctx, connections, fromBatch);
  const projections = createProjections(ctx, connections);

  const store: PostgresEventStore = {
    schema,
    pool,

    async appendToStream(stream, events, appendOptions = {}) {
      await ready();
      mutable('appendToStream');
      checkStreamName(stream);
      if (!Array.isArray(events)) throw new InvalidEventError({ stream }, 'expected an array of events', 'events');
      // Ids are fixed before anything is sent, so that the batch a ConnectionLostError carries retries idempotently.
      const ids = events.map((e) => (e?.id !== undefined ? e.id : newId()));
      const batch = batches.own();
      if (batch !== undefined) return batches.serial(batch, () => appendInBatch(batch, stream, events, ids, appendOptions));
      const sent = events.map((e, i) => (e?.id !== undefined || typeof e !== 'object' ? e : { ...e, id: ids[i]! }));
      const result = await append(stream, events, ids, sent, appendOptions);
      if (result.written) consumers.wake();
      return result;
    },

    async willAppend(streams) {
      const batch = batches.own();
      if (batch === undefined || ctx.readonly) return;
      await ready();
      return batches.serial(batch, () => {
        if (batch.poisoned !== undefined) throw batch.poisoned;
        return preload(batch, streams);
      });
    },

    async readStream(stream, o = {}) {
      await ready();
      return reads.readStream(stream, o);
    },

    async readAll(o = {}) {
      await ready();
      return reads.readAll(o);
    },

    async readEvent(stream, id) {
      await ready();
      return reads.readEvent(stream, id);
    },

    async streamVersion(stream) {
      await ready();
      return reads.streamVersion(stream);
    },

    async readState(stream) {
      await ready();
      return states.read(stream);
    },

    async readCheckpoint(consumer) {
      await ready();
      return projections.readCheckpoint(consumer);
    },

    async saveCheckpoint(consumer, expected, next) {
      await ready();
      mutable('saveCheckpoint');
      return projections.saveCheckpoint(consumer, expected, next);
    },

    batch: (fn) => batches.run(fn),

    async fencedBatch(fence, fn) {
      mutable('fencedBatch');
      return batches.run(fn, fence);
    },

    async readProjection(name) {
      await ready();
      return projections.readProjection(name);
    },

    async saveProjection(name, position, data) {
      await ready();
      mutable('saveProjection');
      return projections.saveProjection(name, position, data);
    },

    subscribe: (consumer: string, handler: EventHandler, subscribeOptions: PostgresSubscribeOptions = {}): Subscription => consumers.subscribe(consumer, handler, subscribeOptions),
    waitForNews: (ms, signal) => consumers.waitForNews(ms, signal),

    leases: (leaseOptions) => {
      mutable('leases');
      return createLeases(ctx, leaseOptions);
    },

    async streamHeads() {
      await ready();
      return reads.streamHeads();
    },

    close() {
      closing ??= (async () => {
        closed = true;
        // The calls already at the server finish (a batch: until its `fn` returns; its calls after this one are
        // StoreClosedError, and it rolls back); the ones waiting for a connection get one, find the store closed and
        // give it back. Only then does the pool end: ended first, it would never answer the ones waiting.
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        await consumers.close();
        await pool.end();
      })();
      return closing;
    },
  };
  for (const name of TRACKED) store[name] = tracked(store[name] as (...args: never[]) => Promise<unknown>) as never;
  return store;
}
