import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { Batches } from './batch.js';
import type { Statements } from './statements.js';

/** What the SQLite store's operations share: the connection, its statements and batches, and the store's options. */
export interface SqliteContext {
  readonly path: string;
  readonly db: SqliteDatabase;
  readonly sql: Statements;
  readonly batches: Batches;
  readonly readonly: boolean;
  /** How long a writer waits for another process's write lock, in ms. */
  readonly timeoutMs: number;
  readonly newId: () => string;
  /** The machine fingerprint snapshots of `stream` are written and accepted with. */
  readonly machineOf: (stream: string) => string;
  /** What SQLite said, as a typed error where a user can cause it (a lock held too long, a read-only file, a full disk). */
  readonly failure: (error: unknown) => unknown;
}
