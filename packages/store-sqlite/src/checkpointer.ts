/**
 * WAL checkpoints off the writer's thread (`checkpoints: 'worker'`). SQLite's automatic checkpoint runs inside the
 * COMMIT that crosses its threshold: it copies the WAL's pages into the database file and fsyncs it, on the thread
 * that committed — the event loop, for better-sqlite3. Here the writer's automatic checkpoint is off and a worker
 * thread, on a connection of its own, runs PASSIVE checkpoints (they never wait for a lock, never block the writer or
 * the readers) every `everyCommits` commits. Durability is the writer's: an acknowledged COMMIT is in the WAL, synced
 * as `synchronous` says; a checkpoint only moves pages already durable. Once a checkpoint has copied every frame, the
 * next write transaction starts the WAL over from its beginning, so it stays small.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/** What `PRAGMA wal_checkpoint(PASSIVE)` answered: busy (0/1), the WAL's frames and the frames checkpointed. */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

export interface Checkpointer {
  /** A write transaction committed: every `everyCommits`, the worker checkpoints (unless it is at it already). */
  committed(): void;
  /** A checkpoint now, its result once done (tests, tools). */
  now(): Promise<CheckpointResult>;
  /** Stops the worker (its last checkpoint finished) and closes its connection. */
  close(): Promise<void>;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 0 });
parentPort.on('message', (message) => {
  if (message === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  let result;
  try {
    result = db.pragma('wal_checkpoint(PASSIVE)')[0];
  } catch (error) {
    // SQLITE_BUSY and the like: only a saving, the next one tries again.
    result = { busy: 1, log: -1, checkpointed: -1, error: String(error) };
  }
  parentPort.postMessage(result);
});
`;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

export function startCheckpointer(db: SqliteDatabase, path: string, everyCommits = 32): Checkpointer {
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(WORKER, { eval: true, workerData: { path, driver } });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  /** Callers of `now` answered by the checkpoint running, and those waiting for the one after it. */
  let waiting: Array<(result: CheckpointResult) => void> = [];
  let next: Array<(result: CheckpointResult) => void> = [];
  let running = false;
  let closing = false;
  let commits = 0;
  worker.on('message', (result: CheckpointResult) => {
    running = false;
    for (const answer of waiting) answer(result);
    [waiting, next] = [next, []];
    if (waiting.length > 0) run();
    else if (!closing) worker.unref();
  });
  // A worker that fails (it cannot open the file) leaves the WAL to grow until close: the writer checkpoints then.
  worker.on('error', () => db.open && db.pragma('wal_autocheckpoint = 1000'));
  const run = () => {
    running = true;
    commits = 0;
    worker.postMessage('checkpoint');
  };
  return {
    committed() {
      if (++commits >= everyCommits && !running) run();
    },
    now: () =>
      new Promise((resolve) => {
        // Awaited: the worker keeps the process alive until it answers.
        worker.ref();
        if (running) next.push(resolve);
        else {
          waiting.push(resolve);
          run();
        }
      }),
    async close() {
      // Awaited, the worker must keep the process alive until it has gone (unref'd, the process could end here).
      closing = true;
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
