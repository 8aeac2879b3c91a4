/**
 * Group commit (`durability: 'group'`): SQLite commits with `synchronous=NORMAL` (in WAL mode, a COMMIT writes its
 * frames to the WAL and does not wait for the disk), and the WAL file is then made durable here, by `fdatasync` on
 * libuv's thread pool rather than inside the COMMIT on the event loop. One sync runs at a time; the commits made while
 * it runs share the next one. Whoever committed is answered only once a sync that began after the commit has
 * finished, so an acknowledged commit is as durable as under `synchronous=FULL` — while the event loop goes on
 * serving in the meantime (better-sqlite3 is synchronous: a FULL COMMIT holds the loop for the whole fsync).
 *
 * Why the WAL alone: its frames are written in order, so syncing the file covers every commit written before the
 * sync began. SQLite itself syncs the WAL before a checkpoint copies frames into the database file, and the database
 * file after, as NORMAL does. The WAL's directory is synced once, after the first sync (a WAL file just created must
 * also be found after a power loss), as SQLite does for a journal it creates, and skipped as SQLite skips it where a
 * folder cannot be opened or synced.
 *
 * A sync that fails leaves the commits since the last good one of unknown durability, and the OS may have dropped the
 * pages it could not write (a later fsync can then succeed without them): the store is failed for good, every caller
 * waiting and every later call refused with the error.
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface GroupSync {
  /** A write transaction committed (or may have): the commits so far are to be synced. */
  mark(): void;
  /** Resolves once every commit marked so far is durable; undefined when they already are. Rejects if a sync failed. */
  settled(): Promise<void> | undefined;
  /** The error of a sync that failed, once one has: the store must refuse every call. */
  readonly failed: unknown;
}

/** How the WAL is made durable: fdatasync of the file at `walPath` (and once, fsync of its directory). */
export type SyncWal = (walPath: string) => Promise<void>;

export async function fdatasyncFile(path: string, directory = false): Promise<void> {
  // The WAL opened to write (never written here): Windows flushes a file only through a handle that may write it.
  const handle = await open(path, directory ? 'r' : 'r+');
  try {
    await (directory ? handle.sync() : handle.datasync());
  } finally {
    await handle.close();
  }
}

export function createGroupSync(databasePath: string, syncWal: SyncWal = fdatasyncFile): GroupSync {
  const walPath = `${databasePath}-wal`;
  let marked = 0;
  let synced = 0;
  let running = false;
  let directorySynced = false;
  let failed: unknown;
  let waiting: Array<{ upTo: number; resolve: () => void; reject: (error: unknown) => void }> = [];

  const run = async (): Promise<void> => {
    running = true;
    try {
      while (synced < marked) {
        // Every commit marked before the sync began is in the WAL's page cache: this sync covers them.
        const upTo = marked;
        await syncWal(walPath);
        if (!directorySynced) {
          // As SQLite's own (unixSync): a folder it cannot open, or whose fsync fails, is skipped, not a failure;
          // under synchronous=FULL the store would go on.
          await fdatasyncFile(dirname(walPath), true).catch(() => undefined);
          directorySynced = true;
        }
        synced = upTo;
        const still: typeof waiting = [];
        for (const w of waiting) (w.upTo <= synced ? w.resolve() : still.push(w));
        waiting = still;
      }
    } catch (error) {
      failed = error;
      for (const w of waiting) w.reject(error);
      waiting = [];
    } finally {
      running = false;
    }
  };

  return {
    mark() {
      marked++;
      if (!running && failed === undefined) void run();
    },
    settled() {
      if (failed !== undefined) return Promise.reject(failed);
      if (synced >= marked) return undefined;
      const upTo = marked;
      return new Promise<void>((resolve, reject) => waiting.push({ upTo, resolve, reject }));
    },
    get failed() {
      return failed;
    },
  };
}
