/**
 * The SQLite store's batches: one transaction held open across awaits on the one connection, so everything else this
 * process asks of the store waits for it (a caller outside the batch would otherwise read, or write into, its
 * uncommitted work). batchScope (@hotpatch/store) tells the batch's own calls from the others.
 */
import { batchScope } from '@hotpatch/store';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { FileGate } from './file-gate.js';
import type { KnownHeads } from './known-heads.js';

export interface OpenBatch {
  readonly token: symbol;
  readonly done: Promise<void>;
  begun: boolean;
  poisoned?: unknown;
  /** Once begun (the write lock held, so no one else appends): the last position in the log. */
  lastPosition: number;
}

export interface Batches {
  /** The batch open on the connection, whoever runs it; null when none. */
  active: OpenBatch | null;
  /** Before a write: a batch takes the write lock (BEGIN IMMEDIATE) at its first write, so an idle one costs nothing. */
  writing(): void;
  /** Waits until no batch but the caller's own is open; then checks the store is open. */
  ready(): Promise<void>;
  /** Whether no batch but the caller's own is open, now. */
  free(): boolean;
  /** Runs `fn` in a batch (see EventStore.batch); `committed` is called after its commit. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function createBatches(options: {
  readonly db: SqliteDatabase;
  readonly lastPosition: Statement<[], number>;
  /** Throws StoreClosedError once the store is closed. */
  readonly open: () => void;
  readonly failure: (error: unknown) => unknown;
  readonly committed: () => void;
  /** What the process's other handles on the file wait for: held from the batch's first write to its end. */
  readonly gate: FileGate;
  /** With group commit: resolves once every commit so far is durable (undefined when they are). */
  readonly durable?: () => Promise<void> | undefined;
  /** The heads an append may trust while a batch holds the write lock (known-heads.ts). */
  readonly heads: KnownHeads;
  /** The error for a batch whose transaction SQLite rolled back after an error. */
  readonly lost: () => unknown;
}): Batches {
  const { db, lastPosition, open, failure, committed, gate, durable, heads, lost } = options;
  const batches: Batches = {
    active: null,

    writing() {
      const batch = batches.active;
      if (batch !== null && !batch.begun) {
        db.exec('BEGIN IMMEDIATE');
        gate.hold();
        batch.begun = true;
        batch.lastPosition = lastPosition.get() ?? 0;
        heads.locked();
      } else if (batch !== null && batch.poisoned === undefined && !db.inTransaction) {
        // SQLite rolled the batch's transaction back after an error (a full disk on a one-row statement, a snapshot a
        // read rebuilt): what it wrote is gone, and a write now would commit on its own. The batch will not commit.
        batch.poisoned = lost();
      }
      if (batch?.poisoned !== undefined) throw batch.poisoned;
    },

    free: () => batches.active === null || batchScope.within(batches.active.token),

    async ready() {
      while (batches.active !== null && !batchScope.within(batches.active.token)) await batches.active.done;
      open();
    },

    async run(fn) {
      // A batch inside the same batch is part of it.
      if (batches.active !== null && batchScope.within(batches.active.token)) return fn();
      // Claimed before the first await when the store is free, so that a call made after this one waits for it.
      while (batches.active !== null) await batches.active.done;
      open();
      let finish!: () => void;
      const token = Symbol('batch');
      const batch: OpenBatch = { token, done: new Promise<void>((resolve) => (finish = resolve)), begun: false, lastPosition: 0 };
      batches.active = batch;
      let outcome: { result: Awaited<ReturnType<typeof fn>> } | { error: unknown };
      try {
        const result = await batchScope.run(token, fn);
        // An append that failed half done (an I/O error after its rows went in) must not be committed.
        if (batch.poisoned !== undefined) throw batch.poisoned;
        // Closed while `fn` ran: the connection, and the transaction with it, are gone.
        open();
        // SQLite rolled its transaction back after an error no write of the batch saw (a read's snapshot rebuild).
        if (batch.begun && !db.inTransaction) throw lost();
        if (batch.begun) {
          db.exec('COMMIT');
          heads.unlocked(true);
          committed();
        }
        outcome = { result };
      } catch (error) {
        // What the batch wrote is gone, and with it the heads it knew (a failed COMMIT too).
        heads.unlocked(false);
        if (db.open && db.inTransaction) db.exec('ROLLBACK');
        outcome = { error: failure(error) };
      } finally {
        gate.release();
        batches.active = null;
        finish();
      }
      // Answered once what it wrote and read is durable, a failure too (it may say what it read); the connection is
      // free for the next batch meanwhile (its commit shares the sync).
      const wait = durable?.();
      if (wait !== undefined) await wait;
      if ('error' in outcome) throw outcome.error;
      return outcome.result;
    },
  };
  return batches;
}
