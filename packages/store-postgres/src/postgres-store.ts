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
 * as well.
 *
 * Durability: an acknowledged append is committed, so it is as durable as the server's `synchronous_commit`
 * makes it (on by default: flushed to the WAL on disk). A connection lost during an append gives
 * ConnectionLostError, whose `events` (ids included) can be resent as they are: a retry is idempotent.
 */
import { InvalidEventError, initialStateFor, lifecycleFor, TransitionRefusedError, type MachineState } from '@hotpatch/core';
import {
  checkBatch,
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
  StoreClosedError,
  StoreReadOnlyError,
  WrongExpectedVersionError,
  type AppendResult,
  type EventHandler,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamStateRead,
  type SubscribeOptions,
  type Subscription,
} from '@hotpatch/store';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { ConnectionLostError, ConsumerLockLostError, isConnectionError } from './errors.js';
import { quoteSchema } from './migrations.js';
import { describeServer, openSchema, readOnlyConfig } from './open-database.js';

export interface PostgresEventStoreOptions extends Omit<pg.PoolConfig, 'Client'> {
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
   * The server ends a transaction of this store's left idle this long, in ms (default 10,000; 0: never): a projection
   * saved in parts. (An append is one statement and holds nothing open between round trips.)
   */
  readonly idleInTransactionTimeoutMs?: number;
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
  readonly pool: pg.Pool;
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

/** Opens the store: connects, applies missing migrations to the schema, and returns the store. */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  const { schema = 'hotpatch', readonly = false, newId = uuidv7, machineFingerprint, idleInTransactionTimeoutMs = 10_000, stateCacheSize = 10_000, ...poolConfig } = options;
  const s = quoteSchema(schema);
  if (!Number.isSafeInteger(stateCacheSize) || stateCacheSize < 0) throw new RangeError(`stateCacheSize must be a whole number ≥ 0, not ${stateCacheSize}`);
  const machineOf = (stream: string) => machineFingerprint ?? machineFingerprintFor(stream);
  const channel = `${schema}.events`;
  const server = describeServer(poolConfig);
  const pool = new pg.Pool(readonly ? readOnlyConfig(poolConfig) : poolConfig);
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
    appendExisting: named('appendExisting', writeStatement(s, `UPDATE ${s}.streams SET version = $11, hash = $12 WHERE stream = $1 AND version = $3 RETURNING 1`)),
    appendNew: named('appendNew', writeStatement(s, `INSERT INTO ${s}.streams (stream, version, hash) VALUES ($1, $11, $12) ON CONFLICT (stream) DO NOTHING RETURNING 1`)),
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

  /** Runs a query on the pool; a broken connection becomes ConnectionLostError. */
  const query = async <R extends pg.QueryResultRow = pg.QueryResultRow>(operation: string, stream: string | undefined, config: pg.QueryConfig & { rowMode?: 'array' }): Promise<pg.QueryResult<R>> => {
    try {
      return await pool.query<R>(config as pg.QueryConfig);
    } catch (error) {
      throw isConnectionError(error) ? new ConnectionLostError(operation, stream, error) : error;
    }
  };
  const rowsOf = async (operation: string, stream: string | undefined, config: pg.QueryConfig) =>
    (await query<never>(operation, stream, { ...config, rowMode: 'array' })).rows as unknown as EventRow[];

  /** Runs `work` in a transaction on one connection; a broken connection becomes ConnectionLostError (for `operation`) and is discarded. */
  const transaction = async <T>(operation: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
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
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  };

  /** The stream's state at `version`: its snapshot if this machine folded it, plus the events after it. */
  const foldState = async (db: pg.ClientBase | pg.Pool, stream: string, version: number, snap: SnapshotRow | undefined): Promise<StreamStateRead> => {
    const usable = snap !== undefined && snap.machine === machineOf(stream) && snap.version <= version;
    let state = usable ? snap.state : initialStateFor(stream);
    const from = usable ? snap.version : 0;
    let folded = 0;
    if (from < version) {
      const lifecycle = lifecycleFor(stream);
      const { rows } = await db.query<never>({ ...q.readStream, values: [stream, from + 1, version, null], rowMode: 'array' });
      for (const row of rows as unknown as EventRow[]) {
        const event = toEvent(row);
        state = lifecycle.evolve(state, event, { stream, version: event.version });
        folded++;
      }
    }
    return { stream, version, state, snapshotVersion: from, eventsFolded: folded };
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
    return { stream, nextExpectedVersion: held.at(-1)!.version, positions: held.map((h) => Number(h!.position)), versions, written: false, events: versions.map((v) => byVersion.get(v)!) };
  };

  /**
   * The head and state this store last wrote for each recently appended stream: the next append to one of them
   * starts from it instead of reading the stream (one round trip fewer). It is only a guess — another instance may
   * have appended since — and the write statement checks it (it moves the head only from that version); when the
   * guess was stale, or anything refuses the append on it, the append reads the stream and tries again, so a
   * refusal is only ever reported from a fresh read.
   */
  const heads = new Map<string, { readonly version: number; readonly hash: string; readonly state: MachineState<string, object> }>();
  const rememberHead = (stream: string, version: number, hash: string, state: MachineState<string, object>) => {
    if (stateCacheSize === 0) return;
    heads.delete(stream);
    heads.set(stream, { version, hash, state });
    if (heads.size > stateCacheSize) heads.delete(heads.keys().next().value!);
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
        if (events.length === 0) return { stream, nextExpectedVersion: actual, positions: [], versions: [], written: false, events: [] };
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
    // driver; the server splits them, keeping each element's text as it is), and are read back from that same text
    // for the hash chain and the recorded events.
    // Each event's text is kept for its hash, which uses it as it is when it is canonical already (checkBatch has
    // made sure every data and meta is a JSON object).
    const dataTexts = events.map((e) => JSON.stringify(e.data));
    const metaTexts = events.map((e) => (e.meta === undefined ? 'null' : JSON.stringify(e.meta)));
    const dataText = `[${dataTexts.join(',')}]`;
    const metaText = `[${metaTexts.join(',')}]`;
    const dataRead = JSON.parse(dataText) as unknown[];
    const metaRead = JSON.parse(metaText) as Array<Record<string, unknown> | null>;
    const types: string[] = [];
    const times: string[] = [];
    const hashes: string[] = [];
    const versions: number[] = [];
    const recorded: RecordedEvent[] = [];
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
      recorded.push(event as RecordedEvent);
      types.push(e.type);
      times.push(e.time);
      hashes.push(prev);
      versions.push(version);
    }
    const last = actual + events.length;
    const { rows } = await pool.query<{ base: string }>({
      ...(headHash === null ? q.appendNew : q.appendExisting),
      values: [stream, events.length, actual, ids, types, times, dataText, metaText, hashes, channel, last, prev, machineOf(stream), JSON.stringify(state)],
    });
    if (rows.length === 0) return undefined;
    rememberHead(stream, last, prev, state);
    const base = Number(rows[0]!.base);
    recorded.forEach((e, i) => ((e as { position: number }).position = base + 1 + i));
    return { stream, nextExpectedVersion: last, positions: versions.map((_, i) => base + 1 + i), versions, written: true, events: recorded };
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
      open();
      mutable('appendToStream');
      checkStreamName(stream);
      if (!Array.isArray(events)) throw new InvalidEventError({ stream }, 'expected an array of events', 'events');
      // Ids are fixed before anything is sent, so that the batch a ConnectionLostError carries retries idempotently.
      const ids = events.map((e) => (e?.id !== undefined ? e.id : newId()));
      const sent = events.map((e, i) => (e?.id !== undefined || typeof e !== 'object' ? e : { ...e, id: ids[i]! }));
      // The first attempt may start from this store's last write to the stream; any other reads it.
      for (let guess = heads.has(stream); ; guess = false) {
        let result: AppendResult | undefined;
        try {
          result = await appendOnce(stream, events, ids, appendOptions.expectedVersion ?? 'any', guess);
        } catch (error) {
          const lost = (e: unknown) => (isConnectionError(e) ? new ConnectionLostError('append', stream, e, sent) : e);
          // Some of the batch's ids are in the log though the first is not (or the head was guessed): which, and
          // where, is read now.
          const constraint = (error as { code?: string; constraint?: string }).code === '23505' ? (error as { constraint?: string }).constraint : undefined;
          if (constraint === 'events_id') {
            result = await retryResult(pool, stream, events).catch((e: unknown) => Promise.reject(lost(e)));
            if (result === undefined) continue;
            return result;
          }
          // A refusal on a guessed head may be the guess's: read the stream and decide again.
          if (guess && !isConnectionError(error)) continue;
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
      open();
      checkReadOptions(`readStream ${stream}`, o);
      const rows = await rowsOf('readStream', stream, { ...q.readStream, values: [stream, Math.max(1, o.fromVersion ?? 1), o.toVersion ?? Number.MAX_SAFE_INTEGER, o.limit ?? null] });
      return rows.map(toEvent);
    },

    async readAll(o: ReadAllOptions = {}) {
      open();
      checkReadOptions('readAll', o);
      return (await rowsOf('readAll', undefined, { ...q.readAll, values: [Math.max(1, o.fromPosition ?? 1), o.limit ?? null] })).map(toEvent);
    },

    async readEvent(stream, id) {
      open();
      if (typeof id !== 'string') return undefined;
      const [row] = await rowsOf('readEvent', stream, { ...q.readEvent, values: [stream, id] });
      return row === undefined ? undefined : toEvent(row);
    },

    async streamVersion(stream) {
      open();
      return (await query<{ version: number }>('streamVersion', stream, { ...q.streamVersion, values: [stream] })).rows[0]?.version ?? 0;
    },

    async readState(stream) {
      open();
      const { rows } = await query<{ version: number | null; snapshot_version: number | null; machine: string | null; state: MachineState<string, object> | null }>('readState', stream, { ...q.stateHead, values: [stream] });
      const row = rows[0]!;
      const snap = row.snapshot_version !== null ? { version: row.snapshot_version, machine: row.machine!, state: row.state! } : undefined;
      let read: StreamStateRead;
      try {
        read = await foldState(pool, stream, row.version ?? 0, snap);
      } catch (error) {
        throw isConnectionError(error) ? new ConnectionLostError('readState', stream, error) : error;
      }
      // A snapshot from another machine definition (or an old one) is rebuilt, so the next read is O(1) again;
      // an older snapshot never overwrites a newer one.
      if (read.eventsFolded > 0 && !readonly) await query('readState', stream, { ...q.refreshSnapshot, values: [stream, read.version, machineOf(stream), JSON.stringify(read.state)] });
      return read;
    },

    async readCheckpoint(consumer) {
      open();
      const { rows } = await query<{ position: string }>('readCheckpoint', undefined, { ...q.checkpoint, values: [consumer] });
      return rows[0] ? Number(rows[0].position) : 0;
    },

    async saveCheckpoint(consumer, expected, next) {
      open();
      mutable('saveCheckpoint');
      const result = expected === 0 ? await query('saveCheckpoint', undefined, { ...q.startCheckpoint, values: [consumer, next] }) : await query('saveCheckpoint', undefined, { ...q.moveCheckpoint, values: [consumer, expected, next] });
      return result.rowCount === 1;
    },

    async readProjection(name) {
      open();
      const { rows } = await query<{ position: string; data: string }>('readProjection', undefined, { ...q.projection, values: [name] });
      return rows[0] ? { position: Number(rows[0].position), parts: rows.map((r) => r.data) } : undefined;
    },

    async saveProjection(name, position, data) {
      open();
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
      open();
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
