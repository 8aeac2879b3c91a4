/**
 * The SQLite event store (better-sqlite3): the embedded default. One file, WAL journal, appends in immediate
 * transactions, `busy_timeout` so that several processes (a service and the CLI) can write the same file.
 *
 * Global order: `position` is the table's INTEGER PRIMARY KEY. SQLite has one writer at a time and a rolled-back
 * transaction gives its rowids back, so positions are assigned in commit order without gaps: a reader that keeps
 * "last position seen" never skips an event.
 *
 * Durability: `synchronous=FULL` by default, so an acknowledged append survives a crash of the process and of the
 * machine. `durability: 'normal'` (synchronous=NORMAL) keeps the database consistent after a machine crash but may
 * lose the last acknowledged appends; a process crash loses nothing either way.
 */
import { createSubscription, createWakeups, machineFingerprintFor, StoreClosedError, StoreReadOnlyError, type EventStore } from '@hotpatch/store';
// Its types by name (not `Database.Database`): the declarations then compile without esModuleInterop.
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { createAppend } from './append.js';
import { createBatches } from './batch.js';
import type { SqliteContext } from './context.js';
import { openForReading, openForWriting, sqliteFailure } from './open-database.js';
import { createProjections } from './projections.js';
import { createReads } from './read.js';
import { createStreamStates } from './state.js';
import { prepareStatements } from './statements.js';

export interface SqliteEventStoreOptions {
  /** The database file (created if missing, unless `readonly`), or ':memory:'. */
  readonly path: string;
  /**
   * Open only to read (default false): the file must exist and hold a hotpatch store of this build's schema
   * (NotAStoreError, SchemaTooNewError, SchemaNotMigratedError otherwise); it is never created, migrated or written,
   * and its journal mode is left as it is. Reads go on while another process writes (WAL); writes are refused
   * (StoreReadOnlyError).
   */
  readonly readonly?: boolean;
  /** 'full' (default): every acknowledged append survives a power loss. 'normal': faster, may lose the last ones. */
  readonly durability?: 'full' | 'normal';
  /** How long a writer waits for another process's write lock, in ms (default 10,000). */
  readonly busyTimeoutMs?: number;
  /** Generates event ids where an event has none (default: UUID v7). */
  readonly newId?: () => string;
  /** The machine fingerprint snapshots are written and accepted with (default: this build's, per kind of stream). */
  readonly machineFingerprint?: string;
  /**
   * How many streams' last folded states are kept in memory (default 10,000; evicted by second chance, an
   * approximation of least recently used). An append to a stream in it skips reading the stream's snapshot; size
   * it to the streams a process keeps busy (a fleet's devices) when memory allows: about 770 bytes each (a device
   * with a patch in flight).
   */
  readonly stateCacheSize?: number;
}

export interface SqliteEventStore extends EventStore {
  readonly path: string;
  /** The underlying connection, for tools and tests (read it, do not write behind the store's back). */
  readonly db: SqliteDatabase;
  /** Every stream's last hash, for a digest of the whole log. */
  streamHeads(): Promise<Array<[string, string]>>;
}

export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  const timeoutMs = options.busyTimeoutMs ?? 10_000;
  const readonly = options.readonly === true;
  const db = readonly ? openForReading(options.path, { timeoutMs }) : openForWriting(options.path, { timeoutMs, durability: options.durability ?? 'full' });
  const sql = prepareStatements(db);
  const failure = (error: unknown) => sqliteFailure(options.path, error, timeoutMs, 'use');

  let closed = false;
  const wakeups = createWakeups();
  const open = () => {
    if (closed) throw new StoreClosedError(`SQLite event store ${options.path}`);
  };
  const mutable = (operation: string) => {
    if (readonly) throw new StoreReadOnlyError(`SQLite event store ${options.path}`, operation);
  };
  const batches = createBatches({ db, lastPosition: sql.lastPosition, open, failure, committed: wakeups.wake });
  /**
   * Waits for a batch of another caller, then checks the store is still open: after the wait, so that a call made
   * before close() and not yet run (everything here runs after an await) is StoreClosedError, never a closed
   * connection's TypeError.
   */
  const ready = async () => {
    await batches.ready();
    open();
  };
  const ctx: SqliteContext = {
    path: options.path,
    db,
    sql,
    batches,
    readonly,
    timeoutMs,
    newId: options.newId ?? uuidv7,
    machineOf: (stream) => options.machineFingerprint ?? machineFingerprintFor(stream),
    failure,
  };
  const states = createStreamStates(ctx, options.stateCacheSize);
  const append = createAppend(ctx, states);
  const reads = createReads(ctx);
  const projections = createProjections(ctx);

  const store: SqliteEventStore = {
    path: options.path,
    db,

    async appendToStream(stream, events, appendOptions = {}) {
      await ready();
      mutable('appendToStream');
      const result = append(stream, events, appendOptions);
      // Inside a batch, consumers are woken when it commits.
      if (result.written && batches.active === null) wakeups.wake();
      return result;
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

    async readProjection(name) {
      await ready();
      return projections.readProjection(name);
    },

    async saveProjection(name, position, data) {
      await ready();
      mutable('saveProjection');
      return projections.saveProjection(name, position, data);
    },

    subscribe(consumer, handler, subscribeOptions) {
      // Appends from this process wake the consumer at once; other processes' appends are found by polling.
      return createSubscription(store, consumer, handler, subscribeOptions, { waitForNews: wakeups.waitForNews });
    },

    async streamHeads() {
      await ready();
      return reads.streamHeads();
    },

    async close() {
      if (closed) return;
      closed = true;
      wakeups.wake();
      db.close();
    },
  };
  return store;
}
