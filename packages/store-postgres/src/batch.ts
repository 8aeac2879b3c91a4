/**
 * The PostgreSQL store's batches: one transaction on one pinned connection, across awaits, so everything else this
 * store object is asked waits for it (as in the SQLite store). Other store objects and processes read the log as
 * committed, and their appends wait on the log head, which the batch locks at its first append, until it commits.
 * AsyncLocalStorage tells the batch's own calls from the others. See the README's Batches.
 */
import type { MachineState } from '@hotpatch/core';
import type { HeldId } from '@hotpatch/store';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientBase, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { PostgresContext } from './context.js';
import { ConnectionLostError, isConnectionError } from './errors.js';
import { IdFilter } from './id-filter.js';

/** Rows a batch appends before it writes them, column by column (see flushStatement). */
export interface PendingRows {
  readonly positions: number[];
  readonly streams: string[];
  readonly versions: number[];
  readonly ids: string[];
  readonly types: string[];
  readonly times: string[];
  readonly data: string[];
  readonly meta: string[];
  readonly hashes: string[];
}
const pendingRows = (): PendingRows => ({ positions: [], streams: [], versions: [], ids: [], types: [], times: [], data: [], meta: [], hashes: [] });

export interface StreamHead {
  readonly version: number;
  /** Null for a stream without events. */
  readonly hash: string | null;
  readonly state: MachineState<string, object>;
}

/** Where the log holds an id, as the batch lookups read it. */
export type HeldRow = HeldId & { readonly id: string; readonly position: number };

export interface OpenBatch {
  readonly token: symbol;
  readonly done: Promise<void>;
  /** The batch's operations, one after the other (see `serial`). */
  queue: Promise<void>;
  /** Its connection, from its first call to its end, in one transaction. */
  client?: PoolClient;
  readonly onError: (error: Error) => void;
  broken?: Error;
  /** An error that aborted the transaction: the batch will not commit. */
  poisoned?: unknown;
  /** The log's last position, the batch's own appends included: known once it has locked the log head (first append). */
  lastPosition?: number;
  /** The log's last position when the batch locked it. 0: the log was empty, and holds only what the batch writes. */
  startPosition?: number;
  /** With startPosition 0: the streams the batch has appended to, and the ids it has written to the database. */
  readonly appended: Set<string>;
  flushedIds?: IdFilter;
  /** The head of each stream the batch read or wrote: exact, since no other writer can move it while the batch holds the log head. */
  readonly heads: Map<string, StreamHead>;
  pending: PendingRows;
  /** Where each buffered event's id will be held. */
  readonly pendingIds: Map<string, HeldRow>;
  readonly pendingStreams: Set<string>;
  written: boolean;
}

export interface Batches {
  /** The batch open on the store, whoever runs it; null when none. */
  active: OpenBatch | null;
  /** The batch the caller is running in, if any. */
  own(): OpenBatch | undefined;
  /** Waits until no batch but the caller's own is open; then checks the store is open. */
  ready(): Promise<void>;
  /** An error on the batch's connection: ConnectionLostError (with the socket's own error as the cause) if it broke. */
  lostIn(batch: OpenBatch, operation: string, stream: string | undefined, error: unknown): unknown;
  /** One of the batch's operations at a time, in the order asked: an append depends on the ones before it. */
  serial<T>(batch: OpenBatch, work: () => Promise<T>): Promise<T>;
  /** A query on the batch's connection; an error there aborts the transaction, so the batch will not commit. */
  query<R extends QueryResultRow = QueryResultRow>(batch: OpenBatch, config: string | (QueryConfig & { rowMode?: 'array' })): Promise<QueryResult<R>>;
  /** The batch's connection as a `query` for helpers that take one: an error there poisons the batch. */
  db(batch: OpenBatch): ClientBase;
  /** The batch's connection, in its transaction: taken from the pool at the batch's first call. */
  client(batch: OpenBatch): Promise<PoolClient>;
  /** Writes the batch's buffered appends (one statement), so that what comes next sees them. */
  flush(batch: OpenBatch): Promise<void>;
  /** Runs `fn` in a batch (see EventStore.batch); `committed` is called after its commit. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function createBatches(ctx: PostgresContext, committed: (batch: OpenBatch) => void): Batches {
  const { pool, sql: q, channel, machineOf, stateCacheSize, busy, open } = ctx;
  const context = new AsyncLocalStorage<symbol>();

  const batches: Batches = {
    active: null,

    own: () => (batches.active !== null && context.getStore() === batches.active.token ? batches.active : undefined),

    async ready() {
      while (batches.active !== null && context.getStore() !== batches.active.token) await batches.active.done;
      open();
    },

    lostIn: (batch, operation, stream, error) =>
      batch.broken !== undefined || isConnectionError(error) ? new ConnectionLostError(operation, stream, batch.broken ?? error) : busy(error),

    serial(batch, work) {
      const run = batch.queue.then(work);
      batch.queue = run.then(
        () => {},
        () => {},
      );
      return run;
    },

    async query<R extends QueryResultRow = QueryResultRow>(batch: OpenBatch, config: string | (QueryConfig & { rowMode?: 'array' })) {
      if (batch.poisoned !== undefined) throw batch.poisoned;
      try {
        return await batch.client!.query<R>(config as QueryConfig);
      } catch (error) {
        batch.poisoned = batches.lostIn(batch, 'batch', undefined, error);
        throw batch.poisoned;
      }
    },

    db: (batch) => ({ query: (config: QueryConfig) => batches.query(batch, config) }) as unknown as ClientBase,

    async client(batch) {
      if (batch.client === undefined) {
        try {
          batch.client = await pool.connect();
        } catch (error) {
          throw isConnectionError(error) ? new ConnectionLostError('batch', undefined, error) : error;
        }
        // While the connection is checked out the pool does not listen for its errors: a broken socket must not crash.
        batch.client.on('error', batch.onError);
        await batches.query(batch, q.begin);
      }
      return batch.client;
    },

    async flush(batch) {
      const rows = batch.pending;
      if (rows.ids.length === 0) return;
      const streams = [...batch.pendingStreams];
      const heads = streams.map((stream) => batch.heads.get(stream)!);
      await batches.query(batch, {
        ...q.flush,
        values: [
          rows.positions,
          rows.streams,
          rows.versions,
          rows.ids,
          rows.types,
          rows.times,
          `[${rows.data.join(',')}]`,
          `[${rows.meta.join(',')}]`,
          rows.hashes,
          streams,
          heads.map((h) => h.version),
          heads.map((h) => h.hash),
          streams.map(machineOf),
          JSON.stringify(heads.map((h) => h.state)),
          batch.lastPosition,
        ],
      });
      if (batch.startPosition === 0) {
        batch.flushedIds ??= new IdFilter();
        for (const id of rows.ids) batch.flushedIds.add(id);
      }
      batch.pending = pendingRows();
      batch.pendingIds.clear();
      batch.pendingStreams.clear();
      // The heads of written streams are read again from the transaction when needed; keep as many as the store does.
      while (batch.heads.size > Math.max(stateCacheSize, 1)) batch.heads.delete(batch.heads.keys().next().value!);
    },

    async run(fn) {
      // A batch inside the same batch is part of it.
      if (batches.own() !== undefined) return fn();
      // Claimed before the first await when the store is free, so that a call made after this one waits for it.
      while (batches.active !== null) await batches.active.done;
      open();
      let finish!: () => void;
      const batch: OpenBatch = {
        token: Symbol('batch'),
        done: new Promise<void>((resolve) => (finish = resolve)),
        queue: Promise.resolve(),
        onError: (error) => void (batch.broken ??= error),
        heads: new Map(),
        pending: pendingRows(),
        pendingIds: new Map(),
        pendingStreams: new Set(),
        appended: new Set(),
        written: false,
      };
      batches.active = batch;
      try {
        const result = await context.run(batch.token, fn);
        await batches.serial(batch, async () => {
          if (batch.poisoned !== undefined) throw batch.poisoned;
          if (batch.client === undefined) return;
          await batches.flush(batch);
          if (batch.written) await batches.query(batch, { text: 'SELECT pg_notify($1, $2)', values: [channel, String(batch.lastPosition)] });
          try {
            await batch.client.query('COMMIT');
          } catch (error) {
            // Lost during the commit: it may or may not have been applied.
            batch.poisoned = batches.lostIn(batch, 'batch commit', undefined, error);
            throw batch.poisoned;
          }
        });
        committed(batch);
        return result;
      } catch (error) {
        await batch.queue;
        if (batch.client !== undefined && batch.broken === undefined && !(batch.poisoned instanceof ConnectionLostError)) {
          await batch.client.query('ROLLBACK').catch((rollbackError: Error) => void (batch.broken = rollbackError));
        }
        throw error;
      } finally {
        if (batch.client !== undefined) {
          batch.client.removeListener('error', batch.onError);
          batch.client.release(batch.broken ?? (batch.poisoned instanceof ConnectionLostError ? batch.poisoned : undefined));
        }
        batches.active = null;
        finish();
      }
    },
  };
  return batches;
}
