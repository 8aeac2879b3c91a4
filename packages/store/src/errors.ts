import { describe, EnvironmentError, HotpatchError, TENANT_STREAM_PREFIX } from '@hotpatch/core';
import type { ExpectedVersion } from './types.js';

/** The stream was not at the version the writer expected; nothing was written. */
export class WrongExpectedVersionError extends HotpatchError {
  readonly code = 'WRONG_EXPECTED_VERSION';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    /** The stream's actual version (0: no events). */
    readonly actual: number,
  ) {
    super(`${stream}: expected version ${String(expected)}, but the stream is at version ${actual}`);
  }
}

/** Some of a batch's event ids are in the stream and some are not: not a retry, and not a new batch. */
export class IdempotencyConflictError extends HotpatchError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(
    readonly stream: string,
    readonly heldIds: readonly string[],
    readonly newIds: readonly string[],
  ) {
    super(`${stream}: ${heldIds.length} of the batch's event ids are already in the stream (${heldIds.slice(0, 3).join(', ')}${heldIds.length > 3 ? ', …' : ''}) and ${newIds.length} are not; a retry must resend the same batch`);
  }
}

/**
 * An event id of the batch is held by another stream. Ids are unique across the whole log (a timeline that holds
 * one id twice fails `verify`), so the batch is refused and nothing is written: a caller reusing a command or
 * report id for another device, or a copy of another stream's event.
 */
export class EventIdTakenError extends HotpatchError {
  readonly code = 'EVENT_ID_TAKEN';
  constructor(
    /** The stream the batch was for. */
    readonly stream: string,
    readonly id: string,
    /** The stream that holds the id, and the version of its event with it. */
    readonly holder: { readonly stream: string; readonly version: number },
  ) {
    super(`${stream}: event id ${id} is already held by ${holder.stream} (version ${holder.version}); event ids are unique across the log, so nothing of the batch was written`);
  }
}

/**
 * An event id the stream holds, sent again as another event (another type, or other data): not a retry, since a
 * retry resends the event it retries, so the batch is refused and nothing of it is written. The id of an earlier
 * event given to a new one (a pause's id passed to the resume) would otherwise be taken for a retry and dropped.
 * `time` and `meta` are not compared: they belong to an attempt (when it was sent, by which try), and the first
 * attempt's are the ones recorded.
 */
export class EventIdReusedError extends HotpatchError {
  readonly code = 'EVENT_ID_REUSED';
  constructor(
    readonly stream: string,
    readonly id: string,
    /** The version of the stream's event that holds the id, and its type. */
    readonly recorded: { readonly version: number; readonly type: string },
    /** The type of the event sent with the id. */
    readonly sentType: string,
    /** What differs: the type, or (same type) the data. */
    readonly differs: 'type' | 'data',
  ) {
    super(
      `${stream}: event id ${id} is already recorded at version ${recorded.version} as a ${recorded.type}` +
        (differs === 'type' ? `, not a ${sentType}` : ' with other data') +
        '; an id names one event, and a retry resends it unchanged, so nothing of the batch was written',
    );
  }
}

/** An id appears twice within one batch. */
export class DuplicateEventIdError extends HotpatchError {
  readonly code = 'DUPLICATE_EVENT_ID';
  constructor(
    readonly stream: string,
    readonly id: string,
  ) {
    super(`${stream}: event id ${id} appears more than once in the batch`);
  }
}

/** A fenced batch's lease is no longer held by its owner at its epoch (expired, or taken over): nothing written. */
export class LeaseLostError extends HotpatchError {
  readonly code = 'LEASE_LOST';
  constructor(
    readonly lease: string,
    readonly owner: string,
    readonly epoch: number,
  ) {
    super(`lease ${lease} is no longer held by ${owner} at epoch ${epoch} (expired or taken over): nothing written`);
  }
}

/** A fence given to a store that keeps no leases (only the PostgreSQL store does): refused rather than ignored. */
export class FencingUnsupportedError extends HotpatchError {
  readonly code = 'FENCING_UNSUPPORTED';
  constructor(readonly lease: string) {
    super(`a batch fenced by lease ${lease} needs a store that keeps leases (PostgreSQL); this store keeps none`);
  }
}

/** The store was used after close(). */
export class StoreClosedError extends HotpatchError {
  readonly code = 'STORE_CLOSED';
  constructor(readonly store: string) {
    super(`${store} is closed`);
  }
}

/** A consumer's handler failed: the consumer stopped at `position`, and its checkpoint is at the event before. */
export class ConsumerFailedError extends HotpatchError {
  readonly code = 'CONSUMER_FAILED';
  constructor(
    readonly consumer: string,
    /** The position of the event whose handler failed. */
    readonly position: number,
    override readonly cause: unknown,
  ) {
    super(`consumer ${consumer} stopped at position ${position}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Another instance moved the consumer's checkpoint: this one stops rather than handle events twice. */
export class CheckpointConflictError extends HotpatchError {
  readonly code = 'CHECKPOINT_CONFLICT';
  constructor(
    readonly consumer: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`consumer ${consumer}: checkpoint expected at ${expected} but is at ${actual}; another instance is running`);
  }
}

/** A projection save with a missing name, a position that is not a whole number ≥ 0, or data that is not text. */
export class InvalidProjectionError extends HotpatchError {
  readonly code = 'INVALID_PROJECTION';
  constructor(
    readonly projection: unknown,
    readonly reason: string,
  ) {
    super(`projection ${JSON.stringify(projection)}: ${reason}`);
  }
}

/** A consumer's name no store need keep (a NUL, a lone surrogate) or none: its checkpoint cannot be saved. */
export class InvalidConsumerError extends HotpatchError {
  readonly code = 'INVALID_CONSUMER';
  constructor(
    readonly consumer: unknown,
    readonly reason: string,
  ) {
    super(`consumer ${JSON.stringify(consumer)}: ${reason}`);
  }
}

/** A database holds data that a schema migration cannot take: it names what, and nothing was changed. */
export class MigrationRefusedError extends HotpatchError {
  readonly code = 'MIGRATION_REFUSED';
  constructor(
    /** The database file, or the PostgreSQL schema. */
    readonly database: string,
    readonly migration: number,
    readonly reason: string,
  ) {
    super(`${database}: schema migration ${migration} refused, nothing was changed: ${reason}`);
  }
}

/**
 * The database is not an event store this build can use: not a SQLite file, a database without hotpatch's tables,
 * a PostgreSQL schema that does not exist. Nothing was read or written.
 */
export class NotAStoreError extends HotpatchError {
  readonly code = 'NOT_A_STORE';
  constructor(
    /** The database file, or the PostgreSQL database and schema. */
    readonly database: string,
    readonly reason: string,
  ) {
    super(`${database}: ${reason}`);
  }
}

/** The store's schema was migrated by a newer build: this one does not know how to read or write it. */
export class SchemaTooNewError extends HotpatchError {
  readonly code = 'SCHEMA_TOO_NEW';
  constructor(
    readonly database: string,
    readonly version: number,
    /** The newest schema version this build knows. */
    readonly known: number,
  ) {
    super(`${database}: its hotpatch schema is at version ${version}, newer than this build knows (${known}); upgrade hotpatch`);
  }
}

/** A store opened read-only whose schema is older than this build's: a reader never migrates, a writer would. */
export class SchemaNotMigratedError extends HotpatchError {
  readonly code = 'SCHEMA_NOT_MIGRATED';
  constructor(
    readonly database: string,
    readonly version: number,
    /** This build's schema version. */
    readonly current: number,
  ) {
    super(`${database}: its hotpatch schema is at version ${version}, older than this build's (${current}), and a reader does not migrate it: any writer does when it opens it (hotpatch pause, resume or import; a store opened without readonly)`);
  }
}

/** A write asked of a store opened read-only; nothing was written. */
export class StoreReadOnlyError extends HotpatchError {
  readonly code = 'STORE_READ_ONLY';
  constructor(
    readonly store: string,
    /** The write refused: appendToStream, saveCheckpoint, saveProjection. */
    readonly operation: string,
  ) {
    super(`${store} is open read-only: ${operation} refused, nothing written`);
  }
}

/**
 * The database cannot be used: a file that cannot be opened or written (no such directory, a directory, read-only
 * for a writer, a full disk), a PostgreSQL server that cannot be reached or refuses the connection (unknown host,
 * connection refused, unknown role or database, authentication failed). Nothing was written.
 */
export class DatabaseUnavailableError extends EnvironmentError {
  readonly code = 'DATABASE_UNAVAILABLE';
  constructor(
    readonly database: string,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`${database}: ${reason}`);
  }
}

/** Another process held the database's write lock for longer than the store waits for it; nothing was written. */
export class DatabaseBusyError extends EnvironmentError {
  readonly code = 'DATABASE_BUSY';
  constructor(
    readonly database: string,
    /** How long the store waited, in ms. */
    readonly waitedMs: number,
  ) {
    super(`${database}: another process has held its write lock for more than ${waitedMs / 1000} s (a long import, or a writer that hangs): nothing written; try again once it is done`);
  }
}

/** A read asked with options no store can honour (a limit that is not a whole number ≥ 0, say); nothing was read. */
export class InvalidReadOptionsError extends HotpatchError {
  readonly code = 'INVALID_READ_OPTIONS';
  constructor(
    /** The read: `readAll`, or `readStream <stream>`. */
    readonly read: string,
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${read}: ${option} must be ${expected}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`);
  }
}

/** A store opened with options it cannot use (no path, say); nothing was opened. */
export class InvalidStoreOptionsError extends HotpatchError {
  readonly code = 'INVALID_STORE_OPTIONS';
  constructor(
    /** The store: `SQLite event store`, say. */
    readonly store: string,
    readonly option: string,
    readonly expected: string,
    readonly value: unknown,
  ) {
    super(`${store}: ${option} must be ${expected}, got ${describe(value)}`);
  }
}

/**
 * A consumer's or a projection's name that a view of the default tenant cannot use: a name beginning `tenant/`
 * is how a named tenant's names are kept in the store (`tenant/<tenant>/<name>`), so it would be another tenant's.
 */
export class ReservedNameError extends HotpatchError {
  readonly code = 'RESERVED_NAME';
  constructor(
    readonly what: 'consumer' | 'projection',
    readonly reserved: string,
  ) {
    super(`${what} ${JSON.stringify(reserved)}: a name beginning "${TENANT_STREAM_PREFIX}" is kept for the named tenants' ${what}s`);
  }
}
