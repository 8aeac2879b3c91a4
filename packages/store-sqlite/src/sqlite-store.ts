/**
 * The SQLite event store (better-sqlite3): the embedded default. One file, WAL journal, appends in immediate
 * transactions, `busy_timeout` so that several processes (a service and the CLI) can write the same file.
 *
 * Global order: `position` is the table's INTEGER PRIMARY KEY. SQLite has one writer at a time and a rolled-back
 * transaction gives its rowids back, so positions are assigned in commit order without gaps: a reader that keeps
 * "last position seen" never skips an event.
 *
 * Durability: `synchronous=FULL` by default, so an acknowledged append survives a crash of the process and of the
 * machine. `durability: 'group'` keeps that promise with the disk's flush off the event loop (group-sync.ts): an
 * append is answered once the WAL is synced past it, and commits made meanwhile share one sync. `durability: 'normal'`
 * (synchronous=NORMAL) keeps the database consistent after a machine crash but may lose the last acknowledged
 * appends; a process crash loses nothing either way.
 */
import { batchScope, createSubscription, createWakeups, DatabaseUnavailableError, InvalidStoreOptionsError, machineFingerprintFor, StoreClosedError, StoreReadOnlyError, type EventStore } from '@hotpatch/store';
// Its types by name (not `Database.Database`): the declarations then compile without esModuleInterop.
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { createAppend } from './append.js';
import { createBatches } from './batch.js';
import { createGroupSync, type SyncWal } from './group-sync.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { fileGate } from './file-gate.js';
import { knownHeads } from './known-heads.js';
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
  /**
   * 'full' (default): every acknowledged append survives a power loss, its COMMIT waiting for the disk on the caller's
   * thread. 'group': the same promise, the WAL synced on the thread pool and commits made meanwhile sharing a sync;
   * reads through this store wait for the sync of what they could see, but other processes (and other store objects
   * on the file) may read a commit a moment before it is durable. 'normal': faster, may lose the last ones.
   */
  readonly durability?: 'full' | 'group' | 'normal';
  /** For tests of 'group': how the WAL file is synced (default: fdatasync on the thread pool). */
  readonly syncWal?: SyncWal;
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
  /**
   * Who checkpoints the WAL (copies its pages into the database file): `'writer'` (default), SQLite's automatic
   * checkpoint inside the COMMIT that crosses 1,000 pages, on the caller's thread; `'worker'`, a worker thread on a
   * connection of its own, every 32 commits, PASSIVE (never waiting for a lock), so that no COMMIT on the event loop
   * also copies and fsyncs the database file. Durability is the same: a commit is in the WAL, synced, either way.
   */
  readonly checkpoints?: 'writer' | 'worker';
}

export interface SqliteEventStore extends EventStore {
  readonly path: string;
  /** The underlying connection, for tools and tests (read it, do not write behind the store's back). */
  readonly db: SqliteDatabase;
  /** Every stream's last hash, for a digest of the whole log. */
  streamHeads(): Promise<Array<[string, string]>>;
  /** With `checkpoints: 'worker'`: a checkpoint now, by the worker, and what it did. */
  readonly checkpointer?: Pick<Checkpointer, 'now'>;
}

export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  // Without a path, SQLite would open an anonymous temporary database: nothing of it would last.
  if (typeof options !== 'object' || options === null) throw new InvalidStoreOptionsError('SQLite event store', 'options', 'an object { path }', options);
  if (typeof options.path !== 'string' || options.path === '') throw new InvalidStoreOptionsError('SQLite event store', 'path', "a file's path (or ':memory:')", options.path);
  const timeoutMs = options.busyTimeoutMs ?? 10_000;
  const readonly = options.readonly === true;
  const durability = options.durability ?? 'full';
  if (durability !== 'full' && durability !== 'group' && durability !== 'normal') throw new InvalidStoreOptionsError('SQLite event store', 'durability', "'full', 'group' or 'normal'", durability);
  const db = readonly ? openForReading(options.path, { timeoutMs }) : openForWriting(options.path, { timeoutMs, synchronous: durability === 'full' ? 'FULL' : 'NORMAL' });
  const sql = prepareStatements(db);
  const failure = (error: unknown) => sqliteFailure(options.path, error, timeoutMs, 'use');

  let closed = false;
  let closing: Promise<void> | undefined;
  const wakeups = createWakeups();
  // The WAL to sync is the one SQLite writes: beside the file as SQLite named it (its full path, symlinks resolved, a
  // URI read), not `path`, which may be relative, a link or a URI. An in-memory database has none ('').
  const file = durability === 'group' && !readonly ? db.prepare<[], string>("SELECT file FROM pragma_database_list WHERE name = 'main'").pluck().get() : undefined;
  const sync = file ? createGroupSync(file, options.syncWal) : undefined;
  const open = () => {
    if (closed) throw new StoreClosedError(`SQLite event store ${options.path}`);
    if (sync?.failed !== undefined) throw syncFailure(sync.failed);
  };
  const syncFailure = (error: unknown) =>
    new DatabaseUnavailableError(options.path, `its WAL could not be synced to disk (${error instanceof Error ? error.message : String(error)}): what was committed since the last sync may be lost; the store refuses every call from now on`, error);
  const mutable = (operation: string) => {
    if (readonly) throw new StoreReadOnlyError(`SQLite event store ${options.path}`, operation);
  };
  const gate = fileGate(options.path, timeoutMs);
  // An in-memory database has no WAL to checkpoint.
  const checkpointer = options.checkpoints === 'worker' && !readonly && !db.memory ? startCheckpointer(db, options.path) : undefined;
  const committed = () => {
    sync?.mark();
    wakeups.wake();
    checkpointer?.committed();
  };
  /** With group commit, once the commits so far are durable (undefined when they are), as the store's typed error. */
  const durable = sync === undefined ? undefined : () => sync.settled()?.catch((error: unknown) => Promise.reject(syncFailure(error)));
  const heads = knownHeads(db);
  const lost = () => new DatabaseUnavailableError(options.path, 'SQLite rolled back the batch after an error (a full disk?): nothing of it is kept; run it again');
  const batches = createBatches({ db, lastPosition: sql.lastPosition, open, failure, committed, gate, heads, lost, ...(durable !== undefined ? { durable } : {}) });
  /**
   * A call's answer, given once what it could see is durable: with group commit, a call outside a batch waits for
   * the sync of every commit made so far (its own write's included); a batch's own calls do not (the batch's commit
   * is answered after a sync that covers what they saw). A refusal is an answer too: a conflict names the version
   * it found.
   */
  const heldBack = () => (durable === undefined || (batches.active !== null && batchScope.within(batches.active.token)) ? undefined : durable());
  const settle = <T>(result: T): Promise<T> => {
    const wait = heldBack();
    return wait === undefined ? Promise.resolve(result) : wait.then(() => result);
  };
  const refuse = (error: unknown): Promise<never> => {
    const wait = heldBack();
    return wait === undefined ? Promise.reject(error) : wait.then(() => Promise.reject(error));
  };
  /**
   * Runs a call once no batch but the caller's own is open on this handle and, for a write, no other handle of this
   * process holds the file's write lock (waited for here, without blocking the event loop its batch needs to
   * finish: see file-gate.ts). Checked in the very turn the call runs in, so that nothing begins a batch or takes
   * the file in between; and whether the store is still open, after the wait, so that a call made before close()
   * and not yet run is StoreClosedError, never a closed connection's TypeError.
   */
  const when = <T>(call: () => T, writes = false): Promise<T> => {
    // The store free now (no batch but the caller's own, no other handle's on the file): run in this very turn, with
    // no promise to wait on (a service makes several calls a request). Its throw is the promise's rejection.
    if (!closed && sync?.failed === undefined && batches.free() && (!writes || gate.free())) {
      try {
        return settle(call());
      } catch (error) {
        return refuse(error);
      }
    }
    return whenFree(call, writes).then(settle, refuse);
  };
  const whenFree = async <T>(call: () => T, writes: boolean): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await batches.ready();
      if (!batches.free()) continue;
      open();
      const busy = writes ? gate.wait(deadline) : undefined;
      if (busy === undefined) return call();
      await busy;
    }
  };
  /** A write, once `when` lets it run, refused by a store opened read-only. */
  const write = <T>(operation: string, call: () => T): Promise<T> =>
    when(() => {
      mutable(operation);
      return call();
    }, true);
  /** A write outside a batch committed on its own (a batch's commit, and an append's, go through `committed`). */
  const savedAlone = <T>(result: T): T => {
    if (batches.active === null) sync?.mark();
    return result;
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
  const append = createAppend(ctx, states, heads);
  const reads = createReads(ctx);
  const projections = createProjections(ctx);

  const store: SqliteEventStore = {
    path: options.path,
    db,
    ...(checkpointer !== undefined ? { checkpointer } : {}),

    appendToStream: (stream, events, appendOptions = {}) =>
      write('appendToStream', () => {
        const result = append(stream, events, appendOptions);
        // Inside a batch, consumers are woken when it commits.
        if (result.written && batches.active === null) committed();
        return result;
      }),

    readStream: (stream, o = {}) => when(() => reads.readStream(stream, o)),

    readAll: (o = {}) => when(() => reads.readAll(o)),

    readEvent: (stream, id) => when(() => reads.readEvent(stream, id)),

    streamVersion: (stream) => when(() => reads.streamVersion(stream)),

    readState: (stream) => when(() => states.read(stream)),

    readCheckpoint: (consumer) => when(() => projections.readCheckpoint(consumer)),

    saveCheckpoint: (consumer, expected, next) => write('saveCheckpoint', () => savedAlone(projections.saveCheckpoint(consumer, expected, next))),

    batch: (fn) => batches.run(fn),

    readProjection: (name) => when(() => projections.readProjection(name)),

    saveProjection: (name, position, data) => write('saveProjection', () => savedAlone(projections.saveProjection(name, position, data))),

    subscribe(consumer, handler, subscribeOptions) {
      // Appends from this process wake the consumer at once; other processes' appends are found by polling.
      return createSubscription(store, consumer, handler, subscribeOptions, { waitForNews: wakeups.waitForNews });
    },

    streamHeads: () => when(() => reads.streamHeads()),

    close() {
      // Called again meanwhile, it answers when the first call does: once the connection has gone.
      closing ??= (async () => {
        closed = true;
        wakeups.wake();
        // What was committed is durable before the connection goes (a failed sync has said so to its callers).
        await durable?.()?.catch(() => undefined);
        await checkpointer?.close();
        db.close();
        gate.leave();
      })();
      return closing;
    },
  };
  return store;
}
