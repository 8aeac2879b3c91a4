/**
 * The PostgreSQL store's batches: one transaction on one pinned connection, across awaits, so everything else this
 * store object is asked waits for it (as in the SQLite store). Other store objects and processes read the log as
 * committed, and their appends wait on the log head, which the batch locks at its first append, until it commits.
 * batchScope (@hotpatch/store) tells the batch's own calls from the others. See the README's Batches.
 */
import { batchScope, LeaseLostError, type Fence } from '@hotpatch/store';
import type { ClientBase, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { flushValues, pendingRows, type PendingRows, type StreamHead } from './batch-rows.js';
import type { PostgresContext } from './context.js';
import { copyText, CopyIn } from './copy-rows.js';
import { ConnectionLostError, isConnectionError } from './errors.js';
import type { LogIndex } from './log-index.js';

export interface OpenBatch {
  readonly token: symbol;
  readonly done: Promise<void>;
  /** The batch's operations, one after the other (see `serial`). */
  queue: Promise<void>;
  /** Its connection, from its first call to its end, in one transaction (begun: BEGIN sent). */
  client?: PoolClient;
  begun: boolean;
  readonly onError: (error: Error) => void;
  broken?: Error;
  /** An error that aborted the transaction: the batch will not commit. */
  poisoned?: unknown;
  /** The log's last position, the batch's own appends included: known once it has locked the log head (first append). */
  lastPosition?: number;
  /** The store's log index covered the whole log when the batch locked it (see LogIndex). */
  caughtUp: boolean;
  /** The head of each stream the batch read or wrote (see StreamHead). */
  readonly heads: Map<string, StreamHead>;
  /** The streams whose heads and snapshots the batch has not written yet. */
  readonly dirty: Set<string>;
  /** The rows not sent yet: the last positions of the log, up to lastPosition. */
  pending: PendingRows;
  /** Each pending event's row in `pending`, by id. */
  readonly pendingIds: Map<string, number>;
  /** The rows sent and not yet written: settles when they are (a failure poisons the batch). */
  inFlight?: Promise<void>;
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
  /** A query on the batch's connection, after the rows in flight; an error there aborts the transaction, so the batch will not commit. */
  query<R extends QueryResultRow = QueryResultRow>(batch: OpenBatch, config: string | (QueryConfig & { rowMode?: 'array' })): Promise<QueryResult<R>>;
  /** The batch's connection as a `query` for helpers that take one: an error there poisons the batch. */
  db(batch: OpenBatch): ClientBase;
  /** The batch's connection, in its transaction: taken from the pool at the batch's first call. */
  client(batch: OpenBatch): Promise<PoolClient>;
  /**
   * Before the batch's first append: locks the log head (in the round trip that begins the transaction, if it is the
   * batch's first call) and catches the store's log index up, reading the events after it in the same round trip.
   */
  lock(batch: OpenBatch): Promise<void>;
  /**
   * The batch's lock (it must not hold it yet) with one more statement in the same round trip, run once the lock is
   * held (`also`, literal SQL): its result.
   */
  lockWith(batch: OpenBatch, also: string): Promise<QueryResult<never>>;
  /**
   * A statement (literal SQL) as the batch's first: its BEGIN in the same round trip (the batch must not have begun).
   * Its error is thrown as the driver's: the caller names it and poisons the batch (Connections.onConnection).
   */
  beginWith(batch: OpenBatch, text: string): Promise<QueryResult<never>>;
  /** Sends the pending rows (COPY) without waiting for them, once the rows sent before are written. */
  send(batch: OpenBatch): Promise<void>;
  /** Writes the pending rows and the heads and snapshots of the streams written since the last flush, so that a read sees them. */
  flush(batch: OpenBatch): Promise<void>;
  /** Runs `fn` in a batch (see EventStore.batch; with a fence, EventStore.fencedBatch); `committed` is called after its commit. */
  run<T>(fn: () => Promise<T>, fence?: Fence): Promise<T>;
}

export function createBatches(ctx: PostgresContext, index: LogIndex, committed: (batch: OpenBatch) => void): Batches {
  const { pool, sql: q, channel, machineOf, busy, open } = ctx;

  /** The batch's connection, checked out of the pool (the transaction not begun). */
  const connect = async (batch: OpenBatch): Promise<PoolClient> => {
    if (batch.client === undefined) {
      try {
        batch.client = await pool.connect();
      } catch (error) {
        throw isConnectionError(error) ? new ConnectionLostError('batch', undefined, error) : error;
      }
      // While the connection is checked out the pool does not listen for its errors: a broken socket must not crash.
      batch.client.on('error', batch.onError);
    }
    return batch.client;
  };

  /** Waits for the rows in flight; throws what aborted the batch, if anything did. */
  const settle = async (batch: OpenBatch): Promise<void> => {
    if (batch.inFlight !== undefined) await batch.inFlight;
    if (batch.poisoned !== undefined) throw batch.poisoned;
  };

  /**
   * The fence's lease, checked at the batch's start and share-locked to its end: a takeover (an UPDATE of the row)
   * waits for the batch, and a batch begun after one finds the epoch moved.
   */
  const holdFence = async (batch: OpenBatch, fence: Fence) => {
    await batches.client(batch);
    const { rowCount } = await batches.query(batch, { ...q.holdLease, values: [fence.lease, fence.owner, fence.epoch] });
    if (rowCount !== 1) throw new LeaseLostError(fence.lease, fence.owner, fence.epoch);
  };

  /** Locks the log head and catches the index up (see lock), and runs `also` after, in the same round trip. */
  const locking = async (batch: OpenBatch, also: string | undefined): Promise<QueryResult<never> | undefined> => {
    await connect(batch);
    const from = index.from;
    const text = `${batch.begun ? '' : `${q.begin}; `}${q.lockAndScan(from)}${also === undefined ? '' : `; ${also}`}`;
    batch.begun = true;
    const results = (await batches.query<never>(batch, { text, rowMode: 'array' })) as unknown as Array<QueryResult<never>>;
    const at = also === undefined ? results.length - 2 : results.length - 3;
    const last = Number((results[at]!.rows as unknown as string[][])[0]![0]);
    batch.caughtUp = index.caughtUp(results[at + 1]!.rows as unknown as Array<[string, string]>, last);
    batch.lastPosition = last;
    return also === undefined ? undefined : results.at(-1)!;
  };

  const batches: Batches = {
    active: null,

    own: () => (batches.active !== null && batchScope.within(batches.active.token) ? batches.active : undefined),

    async ready() {
      while (batches.active !== null && !batchScope.within(batches.active.token)) await batches.active.done;
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
      await settle(batch);
      try {
        return await batch.client!.query<R>(config as QueryConfig);
      } catch (error) {
        batch.poisoned ??= batches.lostIn(batch, 'batch', undefined, error);
        throw batch.poisoned;
      }
    },

    db: (batch) => ({ query: (config: QueryConfig) => batches.query(batch, config) }) as unknown as ClientBase,

    async client(batch) {
      const client = await connect(batch);
      if (!batch.begun) {
        batch.begun = true;
        await batches.query(batch, q.begin);
      }
      return client;
    },

    async lock(batch) {
      if (batch.lastPosition !== undefined) return;
      await locking(batch, undefined);
    },

    lockWith: (batch, also) => locking(batch, also) as Promise<QueryResult<never>>,

    async beginWith(batch, text) {
      const client = await connect(batch);
      batch.begun = true;
      // An error here is the caller's to name (see Connections.onConnection), which poisons the batch.
      const results = (await client.query<never>({ text: `${q.begin}; ${text}`, rowMode: 'array' } as QueryConfig)) as unknown as Array<QueryResult<never>>;
      return results.at(-1)!;
    },

    async send(batch) {
      const rows = batch.pending;
      if (rows.ids.length === 0) return;
      await settle(batch);
      batch.pending = pendingRows();
      batch.pendingIds.clear();
      batch.inFlight = batch.client!.query(new CopyIn(q.copyEvents, Buffer.from(copyText(rows)))).done.then(
        () => {},
        (error: unknown) => void (batch.poisoned ??= batches.lostIn(batch, 'batch', undefined, error)),
      );
    },

    async flush(batch) {
      const rows = batch.pending;
      if (rows.ids.length === 0 && batch.dirty.size === 0) return settle(batch);
      const streams = [...batch.dirty];
      await batches.query(batch, { ...q.flush, values: flushValues(rows, streams, batch.heads, machineOf, batch.lastPosition!) });
      batch.pending = pendingRows();
      batch.pendingIds.clear();
      batch.dirty.clear();
    },

    async run(fn, fence) {
      // A batch inside the same batch is part of it (and of its fence: a fence begins a batch, it is not added to one).
      if (batches.own() !== undefined) {
        if (fence !== undefined) throw new Error('a fenced batch cannot be opened inside another batch');
        return fn();
      }
      // Claimed before the first await when the store is free, so that a call made after this one waits for it.
      while (batches.active !== null) await batches.active.done;
      open();
      let finish!: () => void;
      const batch: OpenBatch = {
        token: Symbol('batch'),
        done: new Promise<void>((resolve) => (finish = resolve)),
        queue: Promise.resolve(),
        begun: false,
        onError: (error) => void (batch.broken ??= error),
        caughtUp: false,
        heads: new Map(),
        dirty: new Set(),
        pending: pendingRows(),
        pendingIds: new Map(),
        written: false,
      };
      batches.active = batch;
      try {
        const result = await batchScope.run(batch.token, async () => {
          if (fence !== undefined) await holdFence(batch, fence);
          return fn();
        });
        await batches.serial(batch, async () => {
          if (batch.poisoned !== undefined) throw batch.poisoned;
          if (batch.client === undefined) return;
          await batches.flush(batch);
          // The notification (delivered at the commit) and the commit in one round trip.
          const notify = batch.written ? `SELECT pg_notify('${channel.replaceAll("'", "''")}', '${batch.lastPosition}'); ` : '';
          try {
            await batch.client.query(`${notify}COMMIT`);
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
        if (batch.inFlight !== undefined) await batch.inFlight;
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
