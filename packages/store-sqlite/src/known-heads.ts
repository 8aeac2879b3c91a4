/**
 * Stream heads this connection wrote or read itself, trusted in place of a head read by an append inside a batch that
 * holds the write lock, when no other connection has committed to the file since they were taken.
 *
 * `PRAGMA data_version` changes, for this connection, exactly when another connection (of this process or another)
 * has committed to the file since this connection last asked; this connection's own commits leave it as it is. So:
 * at a batch's BEGIN IMMEDIATE (the write lock held from then on, no one else can commit until it ends) the value is
 * read; if it moved since the heads were taken, they are all forgotten. Inside the batch, every head this connection
 * reads or writes is the log's until the batch ends; a rolled-back batch (or append) forgets them all, since what it
 * wrote is gone. The trust lasts only while the batch's transaction is open: SQLite rolls a whole transaction back on
 * some errors (SQLITE_FULL in a statement without a statement journal, a one-row INSERT or upsert; an I/O error), and
 * the heads it wrote go with it. A wrong head would break the hash chain: see sqlite-known-heads.test.ts and
 * sqlite-known-heads-attacks.test.ts.
 */
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';

export interface Head {
  readonly version: number;
  readonly hash: string;
}

export interface KnownHeads {
  /** The batch took the write lock: forget the heads if another connection committed since they were taken. */
  locked(): void;
  /** The batch ended (committed or rolled back); `kept` false forgets every head (what it wrote is gone). */
  unlocked(kept: boolean): void;
  /** The stream's head, when held under the write lock and known to be the log's; undefined: read it. */
  head(stream: string): Head | undefined;
  /**
   * The stream's head as this connection just read or wrote it: kept inside a batch holding the write lock; outside
   * one (an append in a transaction of its own), the head kept for the stream is dropped (this connection's own
   * commit does not move data_version).
   */
  know(stream: string, head: Head): void;
  /** The stream's head is not known (an append to it failed: its transaction or savepoint may have been undone). */
  drop(stream: string): void;
}

/** At most this many heads are kept: past it, they are forgotten all at once (a fleet's devices fit). */
const MAX_HEADS = 1_000_000;

export function knownHeads(db: SqliteDatabase): KnownHeads {
  const dataVersion: Statement<[], number> = db.prepare<[], number>('PRAGMA data_version').pluck();
  const heads = new Map<string, Head>();
  /** data_version when the heads were taken; undefined when none are. */
  let seen: number | undefined;
  /** Inside a batch holding the write lock, its heads checked against data_version. */
  let trusted = false;
  const forget = () => {
    heads.clear();
    seen = undefined;
  };
  /** Whether the heads are trusted now: a batch holds the write lock, in a transaction SQLite has not rolled back. */
  const holding = () => {
    if (trusted && !db.inTransaction) {
      trusted = false;
      forget();
    }
    return trusted;
  };
  return {
    locked() {
      const now = dataVersion.get()!;
      if (now !== seen) {
        heads.clear();
        seen = now;
      }
      trusted = true;
    },
    unlocked(kept) {
      trusted = false;
      if (!kept) forget();
    },
    head: (stream) => (holding() ? heads.get(stream) : undefined),
    know(stream, head) {
      if (!holding()) {
        heads.delete(stream);
        return;
      }
      if (heads.size >= MAX_HEADS) heads.clear();
      heads.set(stream, head);
    },
    drop(stream) {
      heads.delete(stream);
    },
  };
}
