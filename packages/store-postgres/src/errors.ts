import { EnvironmentError, HotpatchError } from '@hotpatch/core';
import type { NewEvent } from '@hotpatch/store';

/**
 * The connection to PostgreSQL broke during an operation (the server restarted, the backend was terminated, the
 * network dropped). For an append the outcome is unknown: it was committed or it was not. Retry the same events:
 * `events` holds them with every id filled in (ids the store generated included), so the retry is idempotent —
 * it writes them if the first attempt did not, and returns the original result if it did.
 */
export class ConnectionLostError extends EnvironmentError {
  readonly code = 'CONNECTION_LOST';
  constructor(
    /** What was being done: 'append', 'readAll', … */
    readonly operation: string,
    /** The stream being appended to or read, where there is one. */
    readonly stream: string | undefined,
    override readonly cause: unknown,
    /** For an append: the batch as sent, with ids; resend exactly these. */
    readonly events?: readonly NewEvent[],
  ) {
    super(
      `PostgreSQL connection lost during ${operation}${stream !== undefined ? ` on ${stream}` : ''}: ${cause instanceof Error ? cause.message : String(cause)}` +
        (operation === 'append' ? '; the append may or may not have been committed: retry the same events (same ids)' : '') +
        (operation === 'batch commit' ? '; the batch may or may not have been committed: run it again with the same ids' : ''),
    );
  }
}

/** An exclusive consumer lost the connection that held its lock: another instance may take over, so it stops. */
export class ConsumerLockLostError extends HotpatchError {
  readonly code = 'CONSUMER_LOCK_LOST';
  constructor(
    readonly consumer: string,
    override readonly cause: unknown,
  ) {
    super(`consumer ${consumer}: the connection holding its exclusive lock was lost (${cause instanceof Error ? cause.message : String(cause)}); stopped`);
  }
}

/** A schema name the store cannot use: lower case letters, digits and _, starting with a letter or _, at most 48 characters. */
export class InvalidSchemaNameError extends HotpatchError {
  readonly code = 'INVALID_SCHEMA_NAME';
  constructor(readonly schema: unknown) {
    super(`PostgreSQL schema ${JSON.stringify(schema)}: a schema name must be lower case letters, digits and _, starting with a letter or _, at most 48 characters`);
  }
}

const CONNECTION_ERRNOS = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'EAI_AGAIN']);

/**
 * Whether an error from `pg` means the connection is gone (as opposed to an SQL error on a live connection):
 * SQLSTATE class 08 (connection exception), 57P01–57P03 (terminated by the administrator, crash shutdown, cannot
 * connect now), 53300 (too many connections: the server's max_connections or the role's or database's connection
 * limit, met by a pool growing, or by a second pool in the process such as serve's report thread), 25P03
 * (idle-in-transaction timeout), a socket error, or pg's own "Connection terminated…".
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || code === '25P03' || CONNECTION_ERRNOS.has(code))) return true;
  return /Connection terminated|connection error and is not queryable|Client was closed and is not queryable/i.test(error.message);
}
