/**
 * The PostgreSQL event store (pg): one log shared by several service instances and processes.
 *
 * Global order. A sequence value is taken when a row is inserted but becomes visible when its transaction commits,
 * so with a plain bigserial a reader that keeps "last position seen" can skip a row whose transaction commits after
 * a later one's. The usual fix (Emmett, postgresql-event-sourcing) reads only below the oldest running transaction
 * (`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`, ordered by transaction id). Our contract is stricter:
 * an append returns its positions, `readAll({ fromPosition })` returns exactly the events at or after a number, and
 * positions increase in readAll order — so a position must be final when it is handed out. It therefore is handed
 * out only where the order cannot change any more:
 *
 * - `log_head` holds one row, the last position used. Every append writes in ONE statement, committed on its own
 *   (autocommit): it moves the stream's head, then updates `log_head` (taking positions n+1…n+k), inserts the
 *   events with those positions and writes the snapshot. The `log_head` row lock is held from there to the end of
 *   that statement's commit. A second appender waits on that row until the first has committed and is visible to
 *   every new snapshot (PostgreSQL makes a transaction visible before it releases its locks), then reads the new
 *   value. So positions are assigned in commit order, without gaps (a failed statement gives its positions back),
 *   and a snapshot that sees position p sees every position below p: a reader can trust "last position seen".
 * - Cost: appends are serialised from the `log_head` update to the end of the commit — the insert of the batch's
 *   rows and one WAL flush, all on the server: no round trip to a client (which may be busy with other work) is
 *   made while the lock is held. Everything else (the read, the checks, hashing) runs concurrently, and appends to
 *   one stream are serialised by the stream's row. Readers never wait.
 * - Every row also keeps `transaction_id` (pg_current_xact_id(), xid8) and `global_position` (an identity in
 *   insertion order) for diagnostics and for external readers that prefer the xid8 technique.
 *
 * An append is two round trips (one, on a stream this store wrote last: see `stateCacheSize`): one statement reads
 * the stream's head, which stream holds the batch's first id (this one: a retry, and the original result is returned;
 * another: refused) and the snapshot; the store checks the expected version, the batch and
 * the lifecycle against the snapshot plus any events after it and chains the hashes; then the write statement
 * moves the stream's head only from the version it checked (`UPDATE … WHERE version = $n`, or for a new stream an
 * insert that does nothing if another appender created it meanwhile). If the stream moved in between, nothing is
 * written and the append reads and checks again (optimistic concurrency: each retry finds the stream further on).
 * The statement NOTIFYs `<schema>.events`: subscribers LISTEN and re-read, but only as a wake-up hint — they poll
 * as well. The statement locks the log head before it touches the stream's row, so that no writer ever holds a
 * stream's row while it waits for the log head (see batches).
 *
 * Batches (`batch`): one transaction on one pinned connection, however many appends. The first append locks the log
 * head (`SELECT … FOR UPDATE`) until the commit, so no other writer can move a stream or take a position meanwhile:
 * the batch knows every head it has read or written, assigns positions itself (contiguous, from the log head) and
 * buffers its rows, written many streams at a time in one statement (and before anything inside the batch reads).
 * Each append costs one round trip (the stream's head once, and where the log holds the ids the caller gave; none on
 * a log that was empty when the batch began, where only the batch's own ids can be held); a refused one buffers
 * nothing. All the batch's rows carry its one transaction id, and its positions follow the last committed one: the
 * global order holds. A connection lost before the commit loses the whole batch, and the same batch run again
 * writes it once (ids); lost during the commit, the outcome is unknown (ConnectionLostError 'batch commit'), and
 * running it again is safe for the same reason.
 *
 * Durability: an acknowledged append is committed, so it is as durable as the server's `synchronous_commit`
 * makes it (on by default: flushed to the WAL on disk). A connection lost during an append gives
 * ConnectionLostError, whose `events` (ids included) can be resent as they are: a retry is idempotent.
 */
import { InvalidEventError, initialStateFor, TransitionRefusedError, type MachineState } from '@hotpatch/core';
import {
  alreadyAppended,
  checkBatch,
  DatabaseBusyError,
  checkExpectedVersion,
  checkProjectionSave,
  checkReadOptions,
  checkStreamName,
  checkTransitions,
  createSubscription,
  createWakeups,
  eventHash,
  GENESIS_HASH,
  judgeHeldIds,
  machineFingerprintFor,
  nothingAppended,
  snapshotFold,
  StateCache,
  type HeldId,
  StoreClosedError,
  StoreReadOnlyError,
  WrongExpectedVersionError,
  type AppendResult,
  type EventHandler,
  type EventStore,
  type ExpectedVersion,
  type FoldedState,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '@hotpatch/store';
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
// The options and `pool` name pg's types by name (not `pg.Pool`): the declarations then compile without esModuleInterop.
import type { Pool, PoolConfig } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ConnectionLostError, ConsumerLockLostError, isConnectionError } from './errors.js';
import { IdFilter } from './id-filter.js';
import { quoteSchema } from './migrations.js';
import { describeServer, makeReadOnly, openSchema } from './open-database.js';

export interface PostgresEventStoreOptions extends Omit<PoolConfig, 'Client'> {
  /** The schema that holds the store's tables (created and migrated on open, unless `readonly`; default "hotpatch"). */
  readonly schema?: string;
  /**
   * Open only to read (default false): the schema must exist and hold a hotpatch store of this build's schema
   * (NotAStoreError, SchemaTooNewError, SchemaNotMigratedError otherwise); it is never created or migrated, every
   * session is read-only (default_transaction_read_only), and writes are refused (StoreReadOnlyError).
   */
  readonly readonly?: boolean;
  /** Generates event ids where an event has none (default: UUID v7). */
  readonly newId?: () => string;
  /** The machine fingerprint snapshots are written and accepted with (default: this build's, per kind of stream). */
  readonly machineFingerprint?: string;
  /**
   * How many streams' heads and states this store keeps from its own last writes (default 10,000; 0: none): an
   * append to one of them skips reading the stream first (one round trip instead of two). Only a guess, checked by
   * the write: another instance's appends are found then, and the append reads and tries again.
   */
  readonly stateCacheSize?: number;
  /**
   * The server ends a transaction of this store's left idle this long, in ms (default 10,000; 0: never): a batch
   * whose caller stopped calling (it holds the log head, and every other writer waits for it), a projection saved in
   * parts. (An append outside a batch is one statement and holds nothing open between round trips.)
   */
  readonly idleInTransactionTimeoutMs?: number;
  /**
   * How long a write waits for a lock another writer holds, in ms (default 10,000; 0: for ever), as the SQLite store
   * waits for its write lock: a batch (an import, an orchestrator's unit of work) holds the log head to its commit,
   * and every other writer waits for it. Past it: DatabaseBusyError, nothing written.
   */
  readonly busyTimeoutMs?: number;
}

export interface PostgresSubscribeOptions extends SubscribeOptions {
  /**
   * One active instance per consumer across processes: the subscription first takes a session advisory lock
   * named after the schema and the consumer on a connection of its own, retrying every `lockRetryMs` until it
   * gets it; it is released when the subscription stops or its process dies, and the next instance takes over
   * from the checkpoint.
   */
  readonly exclusive?: boolean;
  /** How often a waiting exclusive instance tries the lock, in ms (default 250). */
  readonly lockRetryMs?: number;
}

export interface PostgresEventStore extends EventStore {
  readonly schema: string;
  /** The store's connection pool, for tools and tests (read through it, do not write behind the store's back). */
  readonly pool: Pool;
  /** Every stream's last hash, for a digest of the whole log. */
  streamHeads(): Promise<Array<[string, string]>>;
  subscribe(consumer: string, handler: EventHandler, options?: PostgresSubscribeOptions): Subscription;
}

type EventRow = [position: string, stream: string, version: number, id: string, type: string, time: string, data: unknown, meta: Record<string, unknown> | null, hash: string];

const toEvent = (r: EventRow): RecordedEvent =>
  ({
    id: r[3],
    stream: r[1],
    version: r[2],
    type: r[4],
    time: r[5],
    data: r[6],
    ...(r[7] !== null ? { meta: r[7] } : {}),
    position: Number(r[0]),
    hash: r[8],
  }) as RecordedEvent;

interface SnapshotRow {
  readonly version: number;
  readonly machine: string;
  readonly state: MachineState<string, object>;
}

const COLUMNS = 'position, stream, version, id, type, time, data, meta, hash';

/**
 * An append's one write statement (see the file's comment), around `moved`: the statement that moves the stream's
 * head and returns a row only if it did. Parameters: $1 stream, $2 k events, $3 the version checked against,
 * $4–$9 the events' ids, types, times, data (one JSON array), meta (one JSON array, null where none) and hashes, $10 the notification channel, $11 the new version,
 * $12 the new head hash, $13 the machine fingerprint and $14 the state of the snapshot.
 */
function writeStatement(s: string, moved: string): string {
  return `WITH moved AS (${moved}),
     head AS (UPDATE ${s}.log_head SET position = position + $2 WHERE EXISTS (SELECT 1 FROM moved) RETURNING position - $2 AS base),
     inserted AS (
       INSERT INTO ${s}.events (position, stream, version, id, type, time, data, meta, hash)
       SELECT head.base + e.n, $1, $3 + e.n, e.id, e.type, e.time, e.data, CASE WHEN json_typeof(e.meta) = 'null' THEN NULL ELSE e.meta END, e.hash
       FROM head, ROWS FROM (unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), json_array_elements($7::json), json_array_elements($8::json), unnest($9::text[]))
         WITH ORDINALITY AS e (id, type, time, data, meta, hash, n)
     ),
     snapshot AS (
       INSERT INTO ${s}.snapshots (stream, version, machine, state) SELECT $1::text, $11::integer, $13::text, $14::json FROM moved
       ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state
     )
   SELECT base, pg_notify($10, (base + $2)::text) FROM head`;
}

/**
 * A batch's buffered appends in one statement: the events of many streams, each stream's new head and snapshot, and
 * the log head's new last position. Parameters: $1–$9 the events' positions, streams, versions, ids, types, times,
 * data (one JSON array), meta (one JSON array, null where none) and hashes; $10–$14 per stream: its name, version,
 * last hash, machine fingerprint and state (one JSON array); $15 the last position.
 */
function flushStatement(s: string): string {
  return `WITH inserted AS (
       INSERT INTO ${s}.events (position, stream, version, id, type, time, data, meta, hash)
       SELECT e.position, e.stream, e.version, e.id, e.type, e.time, e.data, CASE WHEN json_typeof(e.meta) = 'null' THEN NULL ELSE e.meta END, e.hash
       FROM ROWS FROM (unnest($1::bigint[]), unnest($2::text[]), unnest($3::integer[]), unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), json_array_elements($7::json), json_array_elements($8::json), unnest($9::text[]))
         AS e (position, stream, version, id, type, time, data, meta, hash)
     ),
     heads AS (
       INSERT INTO ${s}.streams (stream, version, hash) SELECT * FROM unnest($10::text[], $11::integer[], $12::text[])
       ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash
     ),
     snapshots AS (
       INSERT INTO ${s}.snapshots (stream, version, machine, state)
       SELECT x.stream, x.version, x.machine, x.state FROM ROWS FROM (unnest($10::text[]), unnest($11::integer[]), unnest($13::text[]), json_array_elements($14::json)) AS x (stream, version, machine, state)
       ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state
     )
   UPDATE ${s}.log_head SET position = $15`;
}

/** Rows a batch appends before it writes them, column by column (see flushStatement). */
interface PendingRows {
  readonly positions: number[];
  readonly streams: string[];
  readonly versions: number[];
  readonly ids: string[];
  readonly types: string[];
  readonly times: string[];
  readonly data: string[];
  readonly meta: string[];
  readonly hashes: string[];
}
const pendingRows = (): PendingRows => ({ positions: [], streams: [], versions: [], ids: [], types: [], times: [], data: [], meta: [], hashes: [] });

/** A batch's rows are written once this many are buffered (and before anything reads, and at its commit). */
const FLUSH_ROWS = 2_000;
const NO_ROWS: readonly EventRow[] = [];

interface StreamHead {
  readonly version: number;
  /** Null for a stream without events. */
  readonly hash: string | null;
  readonly state: MachineState<string, object>;
}

/** Where the log holds an id, as the batch lookups read it. */
type HeldRow = HeldId & { readonly id: string; readonly position: number };

interface OpenBatch {
  readonly token: symbol;
  readonly done: Promise<void>;
  /** The batch's operations, one after the other (see `serial`). */
  queue: Promise<void>;
  /** Its connection, from its first call to its end, in one transaction. */
  client?: pg.PoolClient;
  readonly onError: (error: Error) => void;
  broken?: Error;
  /** An error that aborted the transaction: the batch will not commit. */
  poisoned?: unknown;
  /** The log's last position, the batch's own appends included: known once it has locked the log head (first append). */
  lastPosition?: number;
  /** The log's last position when the batch locked it. 0: the log was empty, and holds only what the batch writes. */
  startPosition?: number;
  /** With startPosition 0: the streams the batch has appended to, and the ids it has written to the database. */
  readonly appended: Set<string>;
  flushedIds?: IdFilter;
  /** The head of each stream the batch read or wrote: exact, since no other writer can move it while the batch holds the log head. */
  readonly heads: Map<string, StreamHead>;
  pending: PendingRows;
  /** Where each buffered event's id will be held. */
  readonly pendingIds: Map<string, HeldRow>;
  readonly pendingStreams: Set<string>;
  written: boolean;
}

/** An append's events as they will be recorded (positions 0 until known), chained from the stream's last hash. */
interface Chained {
  readonly recorded: RecordedEvent[];
  readonly versions: number[];
  readonly types: string[];
  readonly times: string[];
  readonly hashes: string[];
  /** Each event's data and meta as written ('null' for no meta): the JSON the hashes were taken over. */
  readonly dataTexts: string[];
  readonly metaTexts: string[];
}

function chain(stream: string, events: readonly NewEvent[], ids: readonly string[], actual: number, headHash: string | null): Chained {
  // Each event's text is kept for its hash, which uses it as it is when it is canonical already (checkBatch has made
  // sure every data and meta is a JSON object). The recorded events are read back from one JSON array of them.
  const dataTexts = events.map((e) => JSON.stringify(e.data));
  const metaTexts = events.map((e) => (e.meta === undefined ? 'null' : JSON.stringify(e.meta)));
  const dataRead = JSON.parse(`[${dataTexts.join(',')}]`) as unknown[];
  const metaRead = JSON.parse(`[${metaTexts.join(',')}]`) as Array<Record<string, unknown> | null>;
  const chained: Chained = { recorded: [], versions: [], types: [], times: [], hashes: [], dataTexts, metaTexts };
  let prev = headHash ?? GENESIS_HASH;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const version = actual + 1 + i;
    const meta = metaRead[i]!;
    // Hash what is stored, as it will be read back; the recorded event is built once, in one of two shapes.
    const event: { -readonly [K in keyof RecordedEvent]: RecordedEvent[K] } = (
      meta === null
        ? { id: ids[i]!, stream, version, type: e.type, time: e.time, data: dataRead[i], position: 0, hash: '' }
        : { id: ids[i]!, stream, version, type: e.type, time: e.time, data: dataRead[i], meta, position: 0, hash: '' }
    ) as RecordedEvent;
    prev = eventHash(prev, event, { data: dataTexts[i]!, meta: meta === null ? null : metaTexts[i]! });
    event.hash = prev;
    chained.recorded.push(event as RecordedEvent);
    chained.types.push(e.type);
    chained.times.push(e.time);
    chained.hashes.push(prev);
    chained.versions.push(version);
  }
  return chained;
}

/** Opens the store: connects, applies missing migrations to the schema, and returns the store. */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  const { schema = 'hotpatch', readonly = false, newId = uuidv7, machineFingerprint, idleInTransactionTimeoutMs = 10_000, busyTimeoutMs = 10_000, stateCacheSize = 10_000, ...poolConfig } = options;
  const s = quoteSchema(schema);
  /**
   * The head and state this store last wrote for each recently appended stream: the next append to one of them
   * starts from it instead of reading the stream (one round trip fewer). It is only a guess — another instance may
   * have appended since — and the write statement checks it (it moves the head only from that version); when the
   * guess was stale, or anything refuses the append on it, the append reads the stream and tries again, so a
   * refusal is only ever reported from a fresh read.
   */
  const heads = new StateCache(stateCacheSize);
  const machineOf = (stream: string) => machineFingerprint ?? machineFingerprintFor(stream);
  const fold = snapshotFold<MachineState<string, object>, EventRow>({ machineOf, parse: (state) => state, toEvent });
  const channel = `${schema}.events`;
  const server = describeServer(poolConfig);
  const pool = new pg.Pool(poolConfig);
  if (readonly) makeReadOnly(pool);
  else if (busyTimeoutMs > 0) {
    pool.on('connect', (client) => {
      client.query(`SET lock_timeout = ${Math.floor(busyTimeoutMs)}`).catch(() => {});
    });
  }
  /** A lock waited for past busyTimeoutMs (SQLSTATE 55P03, lock_not_available) is the other writer's doing. */
  const busy = (error: unknown): unknown => ((error as { code?: unknown })?.code === '55P03' ? new DatabaseBusyError(server, busyTimeoutMs) : error);
  // An idle connection that breaks is dropped by the pool, which opens another when one is needed.
  pool.on('error', () => {});

  try {
    await openSchema(pool, schema, server, readonly);
  } catch (error) {
    await pool.end().catch(() => {});
    throw isConnectionError(error) ? new ConnectionLostError('open', undefined, error) : error;
  }

  const upsertSnapshot = (machine: string, state: string) =>
    `INSERT INTO ${s}.snapshots (stream, version, machine, state) VALUES ($1, $2, ${machine}, ${state}) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state`;
  // Named statements: parsed once per connection.
  const named = (name: string, text: string) => ({ name: `hotpatch.${schema}.${name}`, text });
  const q = {
    begin: idleInTransactionTimeoutMs > 0 ? `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${Math.floor(idleInTransactionTimeoutMs)}` : 'BEGIN',
    // The read before an append, in one statement (one snapshot of the database): the stream's head, which stream
    // holds the batch's first id (this one: a retry), and the stream's snapshot.
    appendHead: named(
      'appendHead',
      `SELECT st.version, st.hash, (SELECT stream FROM ${s}.events WHERE id = $2) AS holder, sn.version AS snapshot_version, sn.machine, sn.state
       FROM (SELECT $1::text AS stream) x LEFT JOIN ${s}.streams st USING (stream) LEFT JOIN ${s}.snapshots sn USING (stream)`,
    ),
    // Ids are unique across the log (migration 4): where each is held, whichever stream holds it.
    eventsById: named('eventsById', `SELECT id, stream, version, position, type, data FROM ${s}.events WHERE id = ANY($1::text[])`),
    // The write of an append: one statement, committed on its own. It moves the stream's head only from the version
    // the append was checked against ($3; a new stream's row only if nobody created it meanwhile), then, only if it
    // did, takes k positions from the log head, inserts the events with them, writes the snapshot and notifies
    // subscribers (delivered at commit). No row comes back when the stream moved: the append reads and checks again.
    // The log head is locked before the stream's row (an uncorrelated sub-select, run before the row is touched), so
    // that an append waiting for a batch (which holds the log head to its commit) holds no stream row the batch may
    // want next: every writer takes the log head first, and none waits for another in a cycle.
    appendExisting: named('appendExisting', writeStatement(s, `UPDATE ${s}.streams SET version = $11, hash = $12 WHERE stream = $1 AND version = $3 AND (SELECT true FROM ${s}.log_head FOR UPDATE) RETURNING 1`)),
    appendNew: named(
      'appendNew',
      writeStatement(s, `INSERT INTO ${s}.streams (stream, version, hash) SELECT $1::text, $11::integer, $12::text WHERE (SELECT true FROM ${s}.log_head FOR UPDATE) ON CONFLICT (stream) DO NOTHING RETURNING 1`),
    ),
    // A batch's: the log head locked to its commit, and its last position; the head of a stream it has not written
    // yet with where the log holds any of the append's ids (one statement); its buffered rows, written at once.
    lockLogHead: named('lockLogHead', `SELECT position FROM ${s}.log_head FOR UPDATE`),
    batchHead: named(
      'batchHead',
      `SELECT st.version, st.hash, sn.version AS snapshot_version, sn.machine, sn.state,
              (SELECT json_agg(json_build_object('id', id, 'stream', stream, 'version', version, 'position', position, 'type', type, 'data', data)) FROM ${s}.events WHERE id = ANY($2::text[])) AS held
       FROM (SELECT $1::text AS stream) x LEFT JOIN ${s}.streams st USING (stream) LEFT JOIN ${s}.snapshots sn USING (stream)`,
    ),
    flush: named('flush', flushStatement(s)),
    // Only over an older snapshot or one from another machine definition.
    refreshSnapshot: named('refreshSnapshot', `${upsertSnapshot('$3', '$4')} WHERE snapshots.machine <> excluded.machine OR snapshots.version < excluded.version`),
    readStream: named('readStream', `SELECT ${COLUMNS} FROM ${s}.events WHERE stream = $1 AND version >= $2::bigint AND version <= $3::bigint ORDER BY version LIMIT $4`),
    readEvent: named('readEvent', `SELECT ${COLUMNS} FROM ${s}.events WHERE stream = $1 AND id = $2`),
    readAll: named('readAll', `SELECT ${COLUMNS} FROM ${s}.events WHERE position >= $1 ORDER BY position LIMIT $2`),
    streamVersion: named('streamVersion', `SELECT version FROM ${s}.streams WHERE stream = $1`),
    // One statement, so the version and the snapshot are read at one point in time.
    stateHead: named(
      'stateHead',
      `SELECT st.version, sn.version AS snapshot_version, sn.machine, sn.state FROM (SELECT $1::text AS stream) x LEFT JOIN ${s}.streams st USING (stream) LEFT JOIN ${s}.snapshots sn USING (stream)`,
    ),
    checkpoint: named('checkpoint', `SELECT position FROM ${s}.checkpoints WHERE consumer = $1`),
    // Compare-and-set from 0 (no row yet, or a row at 0) and from any other position.
    startCheckpoint: named(
      'startCheckpoint',
      `INSERT INTO ${s}.checkpoints (consumer, position, updated) VALUES ($1, $2, now()) ON CONFLICT (consumer) DO UPDATE SET position = excluded.position, updated = excluded.updated WHERE checkpoints.position = 0`,
    ),
    moveCheckpoint: named('moveCheckpoint', `UPDATE ${s}.checkpoints SET position = $3, updated = now() WHERE consumer = $1 AND position = $2`),
    heads: named('heads', `SELECT stream, hash FROM ${s}.streams ORDER BY stream COLLATE "C"`),
    // The head row and its parts in one statement (one snapshot), a row each: one row of a large projection would
    // pass PostgreSQL's 1 GB message limit.
    projection: named(
      'projection',
      `SELECT 0 AS part, position, data FROM ${s}.projections WHERE name = $1
       UNION ALL
       SELECT pp.part, pp.position, pp.data FROM ${s}.projection_parts pp JOIN ${s}.projections p ON p.name = pp.name AND p.position = pp.position WHERE pp.name = $1
       ORDER BY part`,
    ),
    saveProjection: named(
      'saveProjection',
      `INSERT INTO ${s}.projections (name, position, data, updated) VALUES ($1, $2, $3, now()) ON CONFLICT (name) DO UPDATE SET position = excluded.position, data = excluded.data, updated = excluded.updated WHERE projections.position < excluded.position`,
    ),
    dropProjectionParts: named('dropProjectionParts', `DELETE FROM ${s}.projection_parts WHERE name = $1 AND position < $2`),
    insertProjectionPart: named('insertProjectionPart', `INSERT INTO ${s}.projection_parts (name, position, part, data) VALUES ($1, $2, $3, $4)`),
  };

  let closed = false;
  const open = () => {
    if (closed) throw new StoreClosedError(`PostgreSQL event store (schema ${schema})`);
  };
  const mutable = (operation: string) => {
    if (readonly) throw new StoreReadOnlyError(`PostgreSQL event store (${server}, schema ${schema})`, operation);
  };

  // A batch (see `batch`) holds one transaction open on one pinned connection, across awaits, so everything else this
  // store object is asked waits for it (as in the SQLite store): a caller outside the batch would otherwise read the
  // log without the batch's work, then see it appear. Other store objects and processes are not held up: their
  // reads see the log as committed, and their appends wait on the log head, which the batch locks at its first
  // write, until it commits. AsyncLocalStorage tells the batch's own calls from the others.
  const batchContext = new AsyncLocalStorage<symbol>();
  let activeBatch: OpenBatch | null = null;
  /** The batch the caller is running in, if any. */
  const ownBatch = (): OpenBatch | undefined => (activeBatch !== null && batchContext.getStore() === activeBatch.token ? activeBatch : undefined);
  /** Waits until no batch but the caller's own is open; then checks the store is open. */
  const ready = async () => {
    while (activeBatch !== null && batchContext.getStore() !== activeBatch.token) await activeBatch.done;
    open();
  };

  /** An error on the batch's connection: ConnectionLostError (with the socket's own error as the cause) if it broke. */
  const lostIn = (batch: OpenBatch, operation: string, stream: string | undefined, error: unknown): unknown =>
    batch.broken !== undefined || isConnectionError(error) ? new ConnectionLostError(operation, stream, batch.broken ?? error) : busy(error);

  /** One of the batch's operations at a time, in the order asked: an append depends on the ones before it. */
  const serial = <T>(batch: OpenBatch, work: () => Promise<T>): Promise<T> => {
    const run = batch.queue.then(work);
    batch.queue = run.then(
      () => {},
      () => {},
    );
    return run;
  };
  /** A query on the batch's connection; an error there aborts the transaction, so the batch will not commit. */
  const batchQuery = async <R extends pg.QueryResultRow = pg.QueryResultRow>(batch: OpenBatch, config: string | (pg.QueryConfig & { rowMode?: 'array' })): Promise<pg.QueryResult<R>> => {
    if (batch.poisoned !== undefined) throw batch.poisoned;
    try {
      return await batch.client!.query<R>(config as pg.QueryConfig);
    } catch (error) {
      batch.poisoned = lostIn(batch, 'batch', undefined, error);
      throw batch.poisoned;
    }
  };
  /** The batch's connection, in its transaction: taken from the pool at the batch's first call. */
  const batchClient = async (batch: OpenBatch): Promise<pg.PoolClient> => {
    if (batch.client === undefined) {
      try {
        batch.client = await pool.connect();
      } catch (error) {
        throw isConnectionError(error) ? new ConnectionLostError('batch', undefined, error) : error;
      }
      // While the connection is checked out the pool does not listen for its errors: a broken socket must not crash.
      batch.client.on('error', batch.onError);
      await batchQuery(batch, q.begin);
    }
    return batch.client;
  };
  /** Writes the batch's buffered appends (one statement), so that what comes next sees them. */
  const flush = async (batch: OpenBatch) => {
    const rows = batch.pending;
    if (rows.ids.length === 0) return;
    const streams = [...batch.pendingStreams];
    const heads = streams.map((stream) => batch.heads.get(stream)!);
    await batchQuery(batch, {
      ...q.flush,
      values: [
        rows.positions,
        rows.streams,
        rows.versions,
        rows.ids,
        rows.types,
        rows.times,
        `[${rows.data.join(',')}]`,
        `[${rows.meta.join(',')}]`,
        rows.hashes,
        streams,
        heads.map((h) => h.version),
        heads.map((h) => h.hash),
        streams.map(machineOf),
        JSON.stringify(heads.map((h) => h.state)),
        batch.lastPosition,
      ],
    });
    if (batch.startPosition === 0) {
      batch.flushedIds ??= new IdFilter();
      for (const id of rows.ids) batch.flushedIds.add(id);
    }
    batch.pending = pendingRows();
    batch.pendingIds.clear();
    batch.pendingStreams.clear();
    // The heads of written streams are read again from the transaction when needed; keep as many as the store does.
    while (batch.heads.size > Math.max(stateCacheSize, 1)) batch.heads.delete(batch.heads.keys().next().value!);
  };

  /**
   * Runs `work` on a connection: the batch's when the caller is in one (after its buffered appends are written),
   * else the pool. A broken connection becomes ConnectionLostError.
   */
  const onConnection = async <T>(operation: string, stream: string | undefined, work: (db: pg.Pool | pg.PoolClient) => Promise<T>): Promise<T> => {
    const batch = ownBatch();
    if (batch !== undefined) {
      return serial(batch, async () => {
        const client = await batchClient(batch);
        await flush(batch);
        if (batch.poisoned !== undefined) throw batch.poisoned;
        try {
          return await work(client);
        } catch (error) {
          batch.poisoned = lostIn(batch, operation, stream, error);
          throw batch.poisoned;
        }
      });
    }
    try {
      return await work(pool);
    } catch (error) {
      throw isConnectionError(error) ? new ConnectionLostError(operation, stream, error) : busy(error);
    }
  };
  const query = <R extends pg.QueryResultRow = pg.QueryResultRow>(operation: string, stream: string | undefined, config: pg.QueryConfig & { rowMode?: 'array' }): Promise<pg.QueryResult<R>> =>
    onConnection(operation, stream, (db) => db.query<R>(config as pg.QueryConfig));
  const rowsOf = async (operation: string, stream: string | undefined, config: pg.QueryConfig) =>
    (await query<never>(operation, stream, { ...config, rowMode: 'array' })).rows as unknown as EventRow[];

  /** Runs `work` in a transaction on one connection; a broken connection becomes ConnectionLostError (for `operation`) and is discarded. */
  const transaction = async <T>(operation: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    if (ownBatch() !== undefined) return onConnection(operation, undefined, (client) => work(client as pg.PoolClient));
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw isConnectionError(error) ? new ConnectionLostError(operation, undefined, error) : error;
    }
    // While the connection is checked out the pool does not listen for its errors: a broken socket must not crash.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      await client.query(q.begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (broken !== undefined || isConnectionError(error)) {
        broken ??= error as Error;
        throw new ConnectionLostError(operation, undefined, error);
      }
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw busy(error);
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  };

  /** The stream's state at `version`: its snapshot if this machine folded it, plus the events after it. */
  const foldState = async (db: pg.ClientBase | pg.Pool, stream: string, version: number, snap: SnapshotRow | undefined): Promise<FoldedState> => {
    const after = fold.startAfter(stream, version, snap);
    if (after >= version) return fold.fold(stream, version, snap, NO_ROWS);
    const { rows } = await db.query<never>({ ...q.readStream, values: [stream, after + 1, version, null], rowMode: 'array' });
    return fold.fold(stream, version, snap, rows as unknown as EventRow[]);
  };

  /**
   * A retry of a batch the stream holds: the original result. Undefined when the log holds none of its ids (it did
   * when the caller looked: the append is tried again). An id another stream holds: EventIdTakenError; an id held
   * as another event: EventIdReusedError; a batch partly held: IdempotencyConflictError (judgeHeldIds).
   */
  const retryResult = async (db: pg.ClientBase | pg.Pool, stream: string, events: readonly NewEvent[]): Promise<AppendResult | undefined> => {
    const ids = events.flatMap((e) => (e.id === undefined ? [] : [e.id]));
    const { rows } = await db.query<{ id: string; stream: string; version: number; position: string; type: string; data: unknown }>({ ...q.eventsById, values: [ids] });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const held = events.map((e) => (e.id === undefined ? undefined : byId.get(e.id)));
    if (judgeHeldIds(stream, events, held) === 'new') return undefined;
    const versions = held.map((h) => h!.version);
    const { rows: read } = await db.query<never>({ ...q.readStream, values: [stream, Math.min(...versions), Math.max(...versions), null], rowMode: 'array' });
    const byVersion = new Map((read as unknown as EventRow[]).map((r) => [r[2], toEvent(r)]));
    return alreadyAppended(stream, versions.map((v) => byVersion.get(v)!));
  };

  /**
   * One attempt at an append: the stream's head (read, or guessed from `heads`), every check and the hash chain,
   * then the write statement. Undefined when the stream was not where the attempt started from: try again.
   */
  const appendOnce = async (stream: string, events: readonly NewEvent[], ids: readonly string[], expectedVersion: ExpectedVersion, guess: boolean): Promise<AppendResult | undefined> => {
    const known = guess ? heads.get(stream) : undefined;
    let actual: number;
    let headHash: string | null;
    let state: MachineState<string, object>;
    if (known !== undefined) {
      // A held id is found by the unique index when the write inserts it (see appendToStream).
      actual = known.version;
      headHash = known.hash;
      checkExpectedVersion(stream, expectedVersion, actual);
      checkBatch(stream, events, actual + 1);
      if (events.length === 0) return undefined;
      state = checkTransitions(stream, known.state, events, actual + 1);
    } else {
      const found = (
        await pool.query<{ version: number | null; hash: string | null; holder: string | null; snapshot_version: number | null; machine: string; state: MachineState<string, object> }>({
          ...q.appendHead,
          values: [stream, events[0]?.id ?? null],
        })
      ).rows[0]!;
      // A retry of a batch the stream holds returns the original result and writes nothing; a batch whose first id
      // another stream holds is refused.
      if (found.holder !== null) return retryResult(pool, stream, events);
      actual = found.version ?? 0;
      headHash = found.hash;
      try {
        checkExpectedVersion(stream, expectedVersion, actual);
        checkBatch(stream, events, actual + 1);
        if (events.length === 0) return nothingAppended(stream, actual);
        const snap = found.snapshot_version !== null ? { version: found.snapshot_version, machine: found.machine, state: found.state } : undefined;
        state = checkTransitions(stream, (await foldState(pool, stream, actual, snap)).state, events, actual + 1);
      } catch (error) {
        // Refused by the version or the lifecycle: a batch the log holds (a retry, or ids reused) is judged by its
        // ids first, as in every store.
        if (error instanceof WrongExpectedVersionError || error instanceof TransitionRefusedError) {
          const retry = await retryResult(pool, stream, events);
          if (retry !== undefined) return retry;
        }
        throw error;
      }
    }
    // Data and meta go as one JSON array each (one native stringify for the batch, no per-element escaping by the
    // driver; the server splits them, keeping each element's text as it is).
    const { recorded, versions, types, times, hashes, dataTexts, metaTexts } = chain(stream, events, ids, actual, headHash);
    const last = actual + events.length;
    const prev = hashes.at(-1)!;
    const { rows } = await pool.query<{ base: string }>({
      ...(headHash === null ? q.appendNew : q.appendExisting),
      values: [stream, events.length, actual, ids, types, times, `[${dataTexts.join(',')}]`, `[${metaTexts.join(',')}]`, hashes, channel, last, prev, machineOf(stream), JSON.stringify(state)],
    });
    if (rows.length === 0) return undefined;
    heads.remember(stream, last, prev, state, last);
    const base = Number(rows[0]!.base);
    recorded.forEach((e, i) => ((e as { position: number }).position = base + 1 + i));
    return { stream, nextExpectedVersion: last, positions: versions.map((_, i) => base + 1 + i), versions, written: true, events: recorded };
  };

  /** The batch's connection as a `query` for the helpers above: an error there poisons the batch. */
  const batchDb = (batch: OpenBatch) => ({ query: (config: pg.QueryConfig) => batchQuery(batch, config) }) as unknown as pg.ClientBase;

  /**
   * An append inside a batch: the log head locked at the batch's first one (so no other writer moves any stream
   * until the batch ends), the stream's head from the batch's own record or read once, and where the log holds the
   * ids the caller gave (one round trip); then every check, and the rows buffered, to be written many at once.
   * A refused append has buffered nothing: the batch's others stand.
   */
  const appendInBatch = async (batch: OpenBatch, stream: string, events: readonly NewEvent[], ids: readonly string[], expectedVersion: ExpectedVersion): Promise<AppendResult> => {
    await batchClient(batch);
    if (batch.lastPosition === undefined) {
      batch.lastPosition = Number((await batchQuery<{ position: string }>(batch, q.lockLogHead)).rows[0]!.position);
      batch.startPosition = batch.lastPosition;
    }
    // Ids the store generated are new; those the caller gave are looked for among the buffered events, then in the
    // log. A log that was empty when the batch began holds only the batch's events: an id it surely did not write
    // there (IdFilter) is not looked for, and a stream it did not append to has no events (an import into a new
    // store reads nothing).
    const empty = batch.startPosition === 0;
    const given = events.flatMap((e, i) => (e?.id !== undefined && !batch.pendingIds.has(ids[i]!) && !(empty && batch.flushedIds?.mayHold(ids[i]!) !== true) ? [ids[i]!] : []));
    let head = batch.heads.get(stream);
    let found: readonly HeldRow[] = [];
    if (head === undefined && empty && !batch.appended.has(stream)) {
      head = { version: 0, hash: null, state: initialStateFor(stream) };
      batch.heads.set(stream, head);
    }
    if (head === undefined) {
      const row = (
        await batchQuery<{ version: number | null; hash: string | null; snapshot_version: number | null; machine: string; state: MachineState<string, object>; held: HeldRow[] | null }>(batch, {
          ...q.batchHead,
          values: [stream, given],
        })
      ).rows[0]!;
      found = row.held ?? [];
      const version = row.version ?? 0;
      const snap = row.snapshot_version !== null ? { version: row.snapshot_version, machine: row.machine, state: row.state } : undefined;
      head = { version, hash: row.hash, state: (await foldState(batchDb(batch), stream, version, snap)).state };
      batch.heads.set(stream, head);
    } else if (given.length > 0) {
      found = (await batchQuery<HeldRow>(batch, { ...q.eventsById, values: [given] })).rows.map((r) => ({ ...r, position: Number(r.position) }));
    }
    const byId = new Map(found.map((r) => [r.id, r]));
    const held = events.map((e, i) => (e?.id === undefined ? undefined : (batch.pendingIds.get(ids[i]!) ?? byId.get(ids[i]!))));
    // A retry of events the stream holds gives the original result; ids held elsewhere or as other events are refused.
    if (held.some((h) => h !== undefined) && judgeHeldIds(stream, events, held) === 'retry') {
      await flush(batch);
      return (await retryResult(batchDb(batch), stream, events))!;
    }
    checkExpectedVersion(stream, expectedVersion, head.version);
    checkBatch(stream, events, head.version + 1);
    if (events.length === 0) return nothingAppended(stream, head.version);
    const state = checkTransitions(stream, head.state, events, head.version + 1);
    const { recorded, versions, types, times, hashes, dataTexts, metaTexts } = chain(stream, events, ids, head.version, head.hash);
    const rows = batch.pending;
    const positions = versions.map((_, i) => batch.lastPosition! + 1 + i);
    batch.lastPosition += events.length;
    for (let i = 0; i < events.length; i++) {
      const event = recorded[i] as { position: number } & RecordedEvent;
      event.position = positions[i]!;
      rows.positions.push(positions[i]!);
      rows.streams.push(stream);
      rows.versions.push(versions[i]!);
      rows.ids.push(ids[i]!);
      rows.types.push(types[i]!);
      rows.times.push(times[i]!);
      rows.data.push(dataTexts[i]!);
      rows.meta.push(metaTexts[i]!);
      rows.hashes.push(hashes[i]!);
      batch.pendingIds.set(ids[i]!, { id: ids[i]!, stream, version: versions[i]!, position: positions[i]!, type: event.type, data: event.data });
    }
    const last = head.version + events.length;
    batch.heads.delete(stream);
    batch.heads.set(stream, { version: last, hash: hashes.at(-1)!, state });
    batch.pendingStreams.add(stream);
    if (empty) batch.appended.add(stream);
    batch.written = true;
    if (rows.ids.length >= FLUSH_ROWS) await flush(batch);
    return { stream, nextExpectedVersion: last, positions, versions, written: true, events: recorded };
  };

  const wakeups = createWakeups();
  const wakeAll = wakeups.wake;

  // One LISTEN connection per store, opened on the first wait and again after it breaks.
  let listening: Promise<void> | undefined;
  let listener: pg.Client | undefined;
  const dropListener = async (client: pg.Client) => {
    if (listener !== client) return;
    listener = undefined;
    listening = undefined;
    await client.end().catch(() => {});
  };
  /** Starts listening if no connection listens; returns the promise of a new LISTEN, or undefined if one is active. */
  const listen = (): Promise<void> | undefined => {
    if (listening !== undefined || closed) return undefined;
    const client = new pg.Client(poolConfig);
    listener = client;
    client.on('error', () => dropListener(client));
    client.on('end', () => dropListener(client));
    client.on('notification', wakeAll);
    listening = client.connect().then(() => client.query(`LISTEN "${channel}"`)).then(() => {});
    listening.catch(() => dropListener(client));
    return listening;
  };

  /** Resolves on a notification, an append by this store, a new LISTEN, `ms`, or abort, whichever first. */
  // Notifications sent before a LISTEN are lost: once a new one is active, read again.
  const waitForNews = (ms: number, signal: AbortSignal) => (closed ? Promise.resolve() : wakeups.waitForNews(ms, signal, listen() ?? undefined));

  const lockClients = new Set<pg.Client>();
  const subscribeExclusive = (consumer: string, handler: EventHandler, subscribeOptions: PostgresSubscribeOptions): Subscription => {
    const retryMs = subscribeOptions.lockRetryMs ?? 250;
    const stopper = new AbortController();
    let client: pg.Client | undefined;
    let lost: unknown;
    const release = () => {
      if (client === undefined) return;
      lockClients.delete(client);
      const ending = client.end().catch(() => {});
      client = undefined;
      return ending;
    };
    const acquire = async () => {
      while (!stopper.signal.aborted) {
        open();
        const candidate = new pg.Client({ ...poolConfig, keepAlive: true });
        let acquired = false;
        candidate.on('error', (error) => {
          if (acquired) lost ??= error;
        });
        candidate.on('end', () => {
          if (acquired && !stopper.signal.aborted) {
            lost ??= new Error('connection ended');
            wakeAll();
          }
        });
        lockClients.add(candidate);
        client = candidate;
        try {
          await candidate.connect();
          for (;;) {
            if (stopper.signal.aborted) return;
            const { rows } = await candidate.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`${schema}/${consumer}`]);
            if (rows[0]!.ok) {
              acquired = true;
              return;
            }
            await waitForNews(retryMs, stopper.signal);
          }
        } catch (error) {
          // The connection broke while waiting: connect again. Anything else is the caller's to know.
          await release();
          if (!isConnectionError(error)) throw error;
          await waitForNews(retryMs, stopper.signal);
        }
      }
    };
    const locked = acquire();
    const guard = () => {
      open();
      if (lost !== undefined) throw new ConsumerLockLostError(consumer, lost);
    };
    const inner = createSubscription(
      {
        // The subscription starts (reads its checkpoint) once the lock is held, or at once when stopped before.
        readCheckpoint: async (c) => {
          await locked;
          return stopper.signal.aborted ? 0 : store.readCheckpoint(c);
        },
        readAll: async (o) => {
          guard();
          return store.readAll(o);
        },
        saveCheckpoint: async (c, expected, next) => {
          guard();
          return store.saveCheckpoint(c, expected, next);
        },
      },
      consumer,
      handler,
      subscribeOptions,
      { waitForNews },
    );
    const done = inner.done.finally(release);
    done.catch(() => {});
    return {
      consumer,
      position: inner.position,
      waitFor: inner.waitFor,
      stop: async () => {
        stopper.abort();
        await inner.stop();
        await release();
      },
      done,
    };
  };

  const store: PostgresEventStore = {
    schema,
    pool,

    async appendToStream(stream, events, appendOptions = {}) {
      await ready();
      mutable('appendToStream');
      checkStreamName(stream);
      if (!Array.isArray(events)) throw new InvalidEventError({ stream }, 'expected an array of events', 'events');
      // Ids are fixed before anything is sent, so that the batch a ConnectionLostError carries retries idempotently.
      const ids = events.map((e) => (e?.id !== undefined ? e.id : newId()));
      const batch = ownBatch();
      if (batch !== undefined) return serial(batch, () => appendInBatch(batch, stream, events, ids, appendOptions.expectedVersion ?? 'any'));
      const sent = events.map((e, i) => (e?.id !== undefined || typeof e !== 'object' ? e : { ...e, id: ids[i]! }));
      // The first attempt may start from this store's last write to the stream; any other reads it.
      for (let guess = heads.has(stream); ; guess = false) {
        let result: AppendResult | undefined;
        try {
          result = await appendOnce(stream, events, ids, appendOptions.expectedVersion ?? 'any', guess);
        } catch (error) {
          const lost = (e: unknown) => (isConnectionError(e) ? new ConnectionLostError('append', stream, e, sent) : busy(e));
          // Some of the batch's ids are in the log though the first is not (or the head was guessed): which, and
          // where, is read now.
          const constraint = (error as { code?: string; constraint?: string }).code === '23505' ? (error as { constraint?: string }).constraint : undefined;
          if (constraint === 'events_id') {
            result = await retryResult(pool, stream, events).catch((e: unknown) => Promise.reject(lost(e)));
            if (result === undefined) continue;
            return result;
          }
          // A refusal on a guessed head may be the guess's: read the stream and decide again (not a lock waited for
          // too long: that is another writer's).
          if (guess && !isConnectionError(error) && busy(error) === error) continue;
          throw lost(error);
        }
        // The stream moved between the read and the write (another appender got there first), or the guess was
        // stale: read and check again. Each attempt finds the stream further on, so this ends: with this append,
        // or with a refusal (a version conflict, the lifecycle) or a retry's result once the other appender's
        // events are these.
        if (result === undefined) {
          heads.delete(stream);
          continue;
        }
        if (result.written) wakeAll();
        return result;
      }
    },

    async readStream(stream, o: ReadStreamOptions = {}) {
      await ready();
      checkReadOptions(`readStream ${stream}`, o);
      const rows = await rowsOf('readStream', stream, { ...q.readStream, values: [stream, Math.max(1, o.fromVersion ?? 1), o.toVersion ?? Number.MAX_SAFE_INTEGER, o.limit ?? null] });
      return rows.map(toEvent);
    },

    async readAll(o: ReadAllOptions = {}) {
      await ready();
      checkReadOptions('readAll', o);
      return (await rowsOf('readAll', undefined, { ...q.readAll, values: [Math.max(1, o.fromPosition ?? 1), o.limit ?? null] })).map(toEvent);
    },

    async readEvent(stream, id) {
      await ready();
      if (typeof id !== 'string') return undefined;
      const [row] = await rowsOf('readEvent', stream, { ...q.readEvent, values: [stream, id] });
      return row === undefined ? undefined : toEvent(row);
    },

    async streamVersion(stream) {
      await ready();
      return (await query<{ version: number }>('streamVersion', stream, { ...q.streamVersion, values: [stream] })).rows[0]?.version ?? 0;
    },

    async readState(stream) {
      await ready();
      return onConnection('readState', stream, async (db) => {
        const { rows } = await db.query<{ version: number | null; snapshot_version: number | null; machine: string | null; state: MachineState<string, object> | null }>({ ...q.stateHead, values: [stream] });
        const row = rows[0]!;
        const snap = row.snapshot_version !== null ? { version: row.snapshot_version, machine: row.machine!, state: row.state! } : undefined;
        const { snapshotAt: _, ...read } = await foldState(db, stream, row.version ?? 0, snap);
        // A snapshot from another machine definition (or an old one) is rebuilt, so the next read is O(1) again;
        // an older snapshot never overwrites a newer one.
        if (read.eventsFolded > 0 && !readonly) await db.query({ ...q.refreshSnapshot, values: [stream, read.version, machineOf(stream), JSON.stringify(read.state)] });
        return read;
      });
    },

    async readCheckpoint(consumer) {
      await ready();
      const { rows } = await query<{ position: string }>('readCheckpoint', undefined, { ...q.checkpoint, values: [consumer] });
      return rows[0] ? Number(rows[0].position) : 0;
    },

    async saveCheckpoint(consumer, expected, next) {
      await ready();
      mutable('saveCheckpoint');
      const result = expected === 0 ? await query('saveCheckpoint', undefined, { ...q.startCheckpoint, values: [consumer, next] }) : await query('saveCheckpoint', undefined, { ...q.moveCheckpoint, values: [consumer, expected, next] });
      return result.rowCount === 1;
    },

    async batch(fn) {
      // A batch inside the same batch is part of it.
      if (ownBatch() !== undefined) return fn();
      // Claimed before the first await when the store is free, so that a call made after this one waits for it.
      while (activeBatch !== null) await activeBatch.done;
      open();
      let finish!: () => void;
      const batch: OpenBatch = {
        token: Symbol('batch'),
        done: new Promise<void>((resolve) => (finish = resolve)),
        queue: Promise.resolve(),
        onError: (error) => void (batch.broken ??= error),
        heads: new Map(),
        pending: pendingRows(),
        pendingIds: new Map(),
        pendingStreams: new Set(),
        appended: new Set(),
        written: false,
      };
      activeBatch = batch;
      try {
        const result = await batchContext.run(batch.token, fn);
        await serial(batch, async () => {
          if (batch.poisoned !== undefined) throw batch.poisoned;
          if (batch.client === undefined) return;
          await flush(batch);
          if (batch.written) await batchQuery(batch, { text: 'SELECT pg_notify($1, $2)', values: [channel, String(batch.lastPosition)] });
          try {
            await batch.client.query('COMMIT');
          } catch (error) {
            // Lost during the commit: it may or may not have been applied.
            batch.poisoned = lostIn(batch, 'batch commit', undefined, error);
            throw batch.poisoned;
          }
        });
        for (const [stream, head] of batch.heads) if (head.hash !== null) heads.remember(stream, head.version, head.hash, head.state, head.version);
        if (batch.written) wakeAll();
        return result;
      } catch (error) {
        await batch.queue;
        if (batch.client !== undefined && batch.broken === undefined && !(batch.poisoned instanceof ConnectionLostError)) {
          await batch.client.query('ROLLBACK').catch((rollbackError: Error) => void (batch.broken = rollbackError));
        }
        throw error;
      } finally {
        if (batch.client !== undefined) {
          batch.client.removeListener('error', batch.onError);
          batch.client.release(batch.broken ?? (batch.poisoned instanceof ConnectionLostError ? batch.poisoned : undefined));
        }
        activeBatch = null;
        finish();
      }
    },

    async readProjection(name) {
      await ready();
      const { rows } = await query<{ position: string; data: string }>('readProjection', undefined, { ...q.projection, values: [name] });
      return rows[0] ? { position: Number(rows[0].position), parts: rows.map((r) => r.data) } : undefined;
    },

    async saveProjection(name, position, data) {
      await ready();
      mutable('saveProjection');
      const parts = checkProjectionSave(name, position, data);
      // The head row first: it is locked to COMMIT, so two instances saving at once take turns, and the one that
      // comes second and is not further writes nothing. A statement per part: each stays under the 1 GB limit.
      return transaction('saveProjection', async (client) => {
        if ((await client.query({ ...q.saveProjection, values: [name, position, parts[0]] })).rowCount !== 1) return false;
        await client.query({ ...q.dropProjectionParts, values: [name, position] });
        for (let i = 1; i < parts.length; i++) await client.query({ ...q.insertProjectionPart, values: [name, position, i, parts[i]] });
        return true;
      });
    },

    subscribe(consumer, handler, subscribeOptions = {}) {
      if (subscribeOptions.exclusive) return subscribeExclusive(consumer, handler, subscribeOptions);
      return createSubscription(store, consumer, handler, subscribeOptions, { waitForNews });
    },

    async streamHeads() {
      await ready();
      const { rows } = await query<never>('streamHeads', undefined, { ...q.heads, rowMode: 'array' });
      return rows as unknown as Array<[string, string]>;
    },

    async close() {
      if (closed) return;
      closed = true;
      wakeAll();
      await Promise.all([...lockClients].map((c) => c.end().catch(() => {})));
      lockClients.clear();
      if (listener) await dropListener(listener);
      await pool.end();
    },
  };
  return store;
}
