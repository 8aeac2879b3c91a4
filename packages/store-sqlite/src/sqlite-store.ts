/**
 * The SQLite event store (better-sqlite3): the embedded default. One file, WAL journal, appends in immediate
 * transactions, `busy_timeout` so that several processes (a service and the CLI) can write the same file.
 *
 * Global order: `position` is the table's INTEGER PRIMARY KEY. SQLite has one writer at a time and a rolled-back
 * transaction gives its rowids back, so positions are assigned in commit order without gaps: a reader that keeps
 * "last position seen" never skips an event.
 *
 * Durability: `synchronous=FULL` by default, so an acknowledged append survives a crash of the process and of the
 * machine. `durability: 'normal'` (synchronous=NORMAL) keeps the database consistent after a machine crash but may
 * lose the last acknowledged appends; a process crash loses nothing either way.
 */
import { InvalidEventError, lifecycleFor, TransitionRefusedError, type MachineState } from '@hotpatch/core';
import {
  alreadyAppended,
  checkBatch,
  checkExpectedVersion,
  checkProjectionSave,
  checkReadOptions,
  checkStreamName,
  createSubscription,
  createWakeups,
  machineFingerprintFor,
  eventHash,
  GENESIS_HASH,
  IdempotencyConflictError,
  judgeHeldIds,
  nothingAppended,
  snapshotFold,
  StateCache,
  StoreClosedError,
  StoreReadOnlyError,
  WrongExpectedVersionError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type FoldedState,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamStateRead,
} from '@hotpatch/store';
import { AsyncLocalStorage } from 'node:async_hooks';
// Its types by name (not `Database.Database`): the declarations then compile without esModuleInterop.
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { openForReading, openForWriting, sqliteFailure } from './open-database.js';

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
  /** 'full' (default): every acknowledged append survives a power loss. 'normal': faster, may lose the last ones. */
  readonly durability?: 'full' | 'normal';
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
}

export interface SqliteEventStore extends EventStore {
  readonly path: string;
  /** The underlying connection, for tools and tests (read it, do not write behind the store's back). */
  readonly db: SqliteDatabase;
  /** Every stream's last hash, for a digest of the whole log. */
  streamHeads(): Promise<Array<[string, string]>>;
}

type EventRow = [position: number, stream: string, version: number, id: string, type: string, time: string, data: string, meta: string | null, hash: string];

const toEvent = (r: EventRow): RecordedEvent =>
  ({
    id: r[3],
    stream: r[1],
    version: r[2],
    type: r[4],
    time: r[5],
    data: column(r, 6, 'data'),
    ...(r[7] !== null ? { meta: column(r, 7, 'meta') } : {}),
    position: r[0],
    hash: r[8],
  }) as RecordedEvent;

/** A JSON column of a row: text the store wrote, so text that does not parse was changed behind its back. */
function column(r: EventRow, index: 6 | 7, name: 'data' | 'meta'): unknown {
  try {
    return JSON.parse(r[index] as string);
  } catch {
    throw new InvalidEventError({ position: r[0], stream: r[1], version: r[2] }, `not valid JSON in the store: the database was changed behind the store's back`, name);
  }
}

const COLUMNS = 'position, stream, version, id, type, time, data, meta, hash';
/** One-event appends write the stream's snapshot once it is this many versions behind. */
const SNAPSHOT_EVERY = 8;
/** Streams whose last folded state is kept in memory by default (see `states`). */
const RECENT_STATES = 10_000;
/** Rows per INSERT statement (8 parameters each; SQLite allows 32,766 parameters per statement). */
const INSERT_ROWS = 64;
const NO_ROWS: readonly EventRow[] = [];

export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  const timeoutMs = options.busyTimeoutMs ?? 10_000;
  const readonly = options.readonly === true;
  const db = readonly ? openForReading(options.path, { timeoutMs }) : openForWriting(options.path, { timeoutMs, durability: options.durability ?? 'full' });
  const newId = options.newId ?? uuidv7;
  const machineOf = (stream: string) => options.machineFingerprint ?? machineFingerprintFor(stream);
  /** What SQLite said, as a typed error where a user can cause it (a lock held too long, a read-only file, a full disk). */
  const failure = (error: unknown) => sqliteFailure(options.path, error, timeoutMs, 'use');

  const q = {
    stream: db.prepare<[string], { version: number; hash: string }>('SELECT version, hash FROM streams WHERE stream = ?'),
    // Ids are unique across the log (migration 4): where an id is held, whichever stream holds it.
    eventById: db.prepare<[string], { stream: string; version: number; position: number; type: string; data: string }>('SELECT stream, version, position, type, data FROM events WHERE id = ?'),
    upsertStream: db.prepare('INSERT INTO streams (stream, version, hash) VALUES (?, ?, ?) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash'),
    snapshot: db.prepare<[string], { version: number; machine: string; state: string }>('SELECT version, machine, state FROM snapshots WHERE stream = ?'),
    upsertSnapshot: db.prepare(
      'INSERT INTO snapshots (stream, version, machine, state) VALUES (?, ?, ?, ?) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state',
    ),
    refreshSnapshot: db.prepare(
      'INSERT INTO snapshots (stream, version, machine, state) VALUES (?, ?, ?, ?) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state WHERE snapshots.machine <> excluded.machine OR snapshots.version < excluded.version',
    ),
    readEvent: db.prepare<[string, string]>(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND id = ?`).raw(true),
    checkpoint: db.prepare<[string], { position: number }>('SELECT position FROM checkpoints WHERE consumer = ?'),
    insertCheckpoint: db.prepare('INSERT INTO checkpoints (consumer, position, updated) VALUES (?, ?, ?) ON CONFLICT (consumer) DO NOTHING'),
    updateCheckpoint: db.prepare('UPDATE checkpoints SET position = ?, updated = ? WHERE consumer = ? AND position = ?'),
    heads: db.prepare<[], [string, string]>('SELECT stream, hash FROM streams ORDER BY stream').raw(true),
    projection: db.prepare<[string], { position: number; data: string }>('SELECT position, data FROM projections WHERE name = ?'),
    saveProjection: db.prepare(
      'INSERT INTO projections (name, position, data, updated) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, data = excluded.data, updated = excluded.updated WHERE projections.position < excluded.position',
    ),
    lastPosition: db.prepare<[], number>('SELECT MAX(position) FROM events').pluck(),
    projectionParts: db.prepare<[string], string>('SELECT data FROM projection_parts WHERE name = ? ORDER BY part').pluck(),
    dropProjectionParts: db.prepare('DELETE FROM projection_parts WHERE name = ?'),
    insertProjectionPart: db.prepare('INSERT INTO projection_parts (name, part, data) VALUES (?, ?, ?)'),
  };

  // Reads with their LIMIT written into the SQL, one statement per limit, prepared when first needed. A bound
  // `LIMIT ?` costs a full re-prepare on every run (SQLite, built with STAT4 as better-sqlite3 builds it, plans
  // afresh whenever a parameter the plan may depend on is bound): about 11 µs, twenty times the read of a short
  // page. Callers use a handful of page sizes; past LIMITED_STATEMENTS of them, the bound form serves the rest.
  const readStreamSql = `SELECT ${COLUMNS} FROM events WHERE stream = ? AND version >= ? AND version <= ? ORDER BY version`;
  const readAllSql = `SELECT ${COLUMNS} FROM events WHERE position >= ? ORDER BY position`;
  const readStreamRows = limitedReads<[string, number, number]>(db, readStreamSql);
  const readAllRows = limitedReads<[number]>(db, readAllSql);

  // INSERT statements for 1 … INSERT_ROWS rows, prepared when first needed.
  const inserts = new Map<number, Statement>();
  const insertRows = (rows: number): Statement => {
    let statement = inserts.get(rows);
    if (!statement) {
      statement = db.prepare(`INSERT INTO events (stream, version, id, type, time, data, meta, hash) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
      inserts.set(rows, statement);
    }
    return statement;
  };

  let closed = false;
  const wakeups = createWakeups();
  const open = () => {
    if (closed) throw new StoreClosedError(`SQLite event store ${options.path}`);
  };
  const mutable = (operation: string) => {
    if (readonly) throw new StoreReadOnlyError(`SQLite event store ${options.path}`, operation);
  };

  // A batch holds one transaction open across awaits on the one connection, so everything else this process asks
  // of the store waits for it: a caller outside the batch would otherwise read (or write into) its uncommitted
  // work. AsyncLocalStorage tells the batch's own calls from the others.
  const batchContext = new AsyncLocalStorage<symbol>();
  interface OpenBatch {
    readonly token: symbol;
    readonly done: Promise<void>;
    begun: boolean;
    poisoned?: unknown;
    /** Once begun (the write lock held, so no one else appends): the last position in the log. */
    lastPosition: number;
  }
  let activeBatch: OpenBatch | null = null;
  /** Set once an append's rows are in: a failure after that leaves the append half done (see appendToStream). */
  let inserted = false;
  /** Before a write: a batch takes the write lock (BEGIN IMMEDIATE) at its first write, so an idle one costs nothing. */
  const writing = () => {
    if (activeBatch !== null && !activeBatch.begun) {
      db.exec('BEGIN IMMEDIATE');
      activeBatch.begun = true;
      activeBatch.lastPosition = q.lastPosition.get() ?? 0;
    }
  };
  /** Waits until no batch but the caller's own is open; then checks the store is open. */
  const ready = async () => {
    while (activeBatch !== null && batchContext.getStore() !== activeBatch.token) await activeBatch.done;
    open();
  };

  /** The last state this process folded for each recently used stream: saves reading and parsing its snapshot. */
  const states = new StateCache(options.stateCacheSize ?? RECENT_STATES);
  const fold = snapshotFold<string, EventRow>({ machineOf, parse: (text) => JSON.parse(text) as MachineState<string, object>, toEvent });

  /** The stream's state at its head: as this process last folded it there, else its snapshot plus the events after it. */
  const stateOf = (stream: string, version: number, hash?: string): FoldedState => {
    const known = states.at(stream, version, hash);
    if (known !== undefined) return { stream, version, state: known.state, snapshotVersion: version, eventsFolded: 0, snapshotAt: known.snapshotAt };
    const snap = q.snapshot.get(stream);
    const after = fold.startAfter(stream, version, snap);
    return fold.fold(stream, version, snap, after < version ? (readStreamRows(undefined).all(stream, after + 1, version) as EventRow[]) : NO_ROWS);
  };

  /**
   * A retry of a batch the stream holds: the original result. Undefined when the log holds none of its ids. An id
   * another stream holds: EventIdTakenError; an id held as another event: EventIdReusedError; a batch partly held:
   * IdempotencyConflictError (judgeHeldIds). Looked
   * up only when an append is refused (a held batch always is: by the expected version, by the lifecycle or by the
   * unique index on ids), not on every append.
   */
  const retryOf = (stream: string, events: readonly NewEvent[], before: number): AppendResult | undefined => {
    // Rows of the stream past the version it had before this append are the append's own (earlier INSERTs of a
    // long batch).
    const held = events.map((e) => {
      const h = e.id === undefined ? undefined : q.eventById.get(e.id);
      return h !== undefined && !(h.stream === stream && h.version > before) ? { ...h, data: JSON.parse(h.data) as unknown } : undefined;
    });
    if (judgeHeldIds(stream, events, held) !== 'retry') return undefined;
    return alreadyAppended(stream, held.map((h) => toEvent(readStreamRows(1).all(stream, h!.version, h!.version)[0] as EventRow)));
  };

  const appendRows = (stream: string, events: readonly NewEvent[], appendOptions: AppendOptions): AppendResult => {
    const head = q.stream.get(stream);
    try {
      return write(stream, events, appendOptions, head);
    } catch (error) {
      const refused =
        error instanceof WrongExpectedVersionError ||
        error instanceof TransitionRefusedError ||
        error instanceof IdempotencyConflictError ||
        ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /events\.id/.test((error as Error).message));
      const retry = refused ? retryOf(stream, events, head?.version ?? 0) : undefined;
      if (retry !== undefined) return retry;
      throw error;
    }
  };
  const append = db.transaction(appendRows);

  const write = (stream: string, events: readonly NewEvent[], appendOptions: AppendOptions, head: { version: number; hash: string } | undefined): AppendResult => {
    const actual = head?.version ?? 0;
    checkExpectedVersion(stream, appendOptions.expectedVersion ?? 'any', actual);
    checkBatch(stream, events, actual + 1);
    if (events.length === 0) return nothingAppended(stream, actual);

    let { state, snapshotAt } = stateOf(stream, actual, head?.hash);
    const lifecycle = lifecycleFor(stream);
    let prev = head?.hash ?? GENESIS_HASH;
    const positions: number[] = [];
    const versions: number[] = [];
    const recorded: RecordedEvent[] = [];
    // Rows go in by INSERTs of up to INSERT_ROWS rows: one statement per row costs more than SQLite's own work.
    const row: unknown[] = [];
    const ids: string[] = [];
    const flush = () => {
      const rows = ids.length;
      if (rows === 0) return;
      // A held id fails this on the unique index: appendRows then looks up which, where (and whether it is a retry).
      const last = Number(insertRows(rows).run(row).lastInsertRowid);
      // One writer, one statement, no AUTOINCREMENT: the rows took the rowids after the largest, in order.
      for (let k = rows - 1; k >= 0; k--) positions.push(last - k);
      if (activeBatch?.begun) activeBatch.lastPosition = last;
      row.length = 0;
      ids.length = 0;
    };
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const version = actual + 1 + i;
      state = lifecycle.evolve(state, e, { stream, version });
      const id = e.id ?? newId();
      const data = JSON.stringify(e.data);
      const meta = e.meta === undefined ? null : JSON.stringify(e.meta);
      // Hash what is stored, as it will be read back; the recorded event is built once, in one of two shapes.
      const event: { -readonly [K in keyof RecordedEvent]: RecordedEvent[K] } = (
        meta === null
          ? { id, stream, version, type: e.type, time: e.time, data: JSON.parse(data), position: 0, hash: '' }
          : { id, stream, version, type: e.type, time: e.time, data: JSON.parse(data), meta: JSON.parse(meta), position: 0, hash: '' }
      ) as RecordedEvent;
      prev = eventHash(prev, event, { data, meta });
      event.hash = prev;
      recorded.push(event as RecordedEvent);
      row.push(stream, version, id, e.type, e.time, data, meta, prev);
      ids.push(id);
      versions.push(version);
      if (ids.length === INSERT_ROWS) flush();
    }
    flush();
    inserted = true;
    const last = actual + events.length;
    q.upsertStream.run(stream, last, prev);
    // A snapshot for every batch of events, and after every SNAPSHOT_EVERY single events: a read folds at most that
    // many on top of it, and one-event appends (most of a service's) do not rewrite the state each time.
    if (events.length > 1 || snapshotAt === 0 || last - snapshotAt >= SNAPSHOT_EVERY) {
      q.upsertSnapshot.run(stream, last, machineOf(stream), JSON.stringify(state));
      snapshotAt = last;
    }
    states.remember(stream, last, prev, state, snapshotAt);
    for (let i = 0; i < recorded.length; i++) (recorded[i] as { position: number }).position = positions[i]!;
    return { stream, nextExpectedVersion: last, positions, versions, written: true, events: recorded };
  };

  // The first part is in the projections row, the others in projection_parts; read in one transaction, so that
  // another process's save cannot come between the two reads.
  const readProjection = db.transaction((name: string) => {
    const head = q.projection.get(name);
    return head === undefined ? undefined : { position: head.position, parts: [head.data, ...q.projectionParts.all(name)] };
  });
  const saveProjection = db.transaction((name: string, position: number, parts: readonly string[]) => {
    if (q.saveProjection.run(name, position, parts[0]!, new Date().toISOString()).changes !== 1) return false;
    q.dropProjectionParts.run(name);
    for (let i = 1; i < parts.length; i++) q.insertProjectionPart.run(name, i, parts[i]!);
    return true;
  });

  /** Writes a rebuilt snapshot if the write lock is free now; another process holding it is not waited for. */
  const refreshWhenFree = (stream: string, read: StreamStateRead) => {
    db.pragma('busy_timeout = 0');
    try {
      q.refreshSnapshot.run(stream, read.version, machineOf(stream), JSON.stringify(read.state));
    } catch {
      // Only a saving: a read never fails for want of it (the lock held, the disk full); the next read folds again.
    } finally {
      db.pragma(`busy_timeout = ${timeoutMs}`);
    }
  };

  const store: SqliteEventStore = {
    path: options.path,
    db,

    async appendToStream(stream, events, appendOptions = {}) {
      await ready();
      mutable('appendToStream');
      checkStreamName(stream);
      if (!Array.isArray(events)) throw new InvalidEventError({ stream }, 'expected an array of events', 'events');
      try {
        writing();
      } catch (error) {
        throw failure(error);
      }
      // Inside a batch, an append of one INSERT statement needs no savepoint of its own: everything that can refuse
      // it does so before its first write, and the INSERT is atomic. After it, only an I/O error can fail the rest,
      // and that poisons the batch (it will not commit).
      let result: AppendResult;
      if (activeBatch !== null && events.length <= INSERT_ROWS) {
        const batch = activeBatch;
        if (batch.poisoned !== undefined) throw batch.poisoned;
        inserted = false;
        try {
          result = appendRows(stream, events, appendOptions);
        } catch (error) {
          if (inserted) batch.poisoned = error;
          throw failure(error);
        }
      } else {
        try {
          result = append.immediate(stream, events, appendOptions);
        } catch (error) {
          throw failure(error);
        }
      }
      // Inside a batch, consumers are woken when it commits.
      if (result.written && activeBatch === null) wakeups.wake();
      return result;
    },

    async readStream(stream, o: ReadStreamOptions = {}) {
      await ready();
      checkReadOptions(`readStream ${stream}`, o);
      const rows = readStreamRows(o.limit).all(stream, Math.max(1, o.fromVersion ?? 1), o.toVersion ?? Number.MAX_SAFE_INTEGER) as EventRow[];
      return rows.map(toEvent);
    },

    async readAll(o: ReadAllOptions = {}) {
      await ready();
      checkReadOptions('readAll', o);
      // Inside a batch that holds the write lock, nothing past its own last append can exist: no query needed.
      if (activeBatch?.begun && (o.fromPosition ?? 1) > activeBatch.lastPosition) return [];
      return (readAllRows(o.limit).all(Math.max(1, o.fromPosition ?? 1)) as EventRow[]).map(toEvent);
    },

    async readEvent(stream, id) {
      await ready();
      const row = typeof id === 'string' ? (q.readEvent.get(stream, id) as EventRow | undefined) : undefined;
      return row === undefined ? undefined : toEvent(row);
    },

    async streamVersion(stream) {
      await ready();
      return q.stream.get(stream)?.version ?? 0;
    },

    async readState(stream) {
      await ready();
      // A read transaction: the stream's version and its snapshot are read at one point in time.
      const read = db.transaction(() => {
        const head = q.stream.get(stream);
        const { snapshotAt, ...result } = stateOf(stream, head?.version ?? 0, head?.hash);
        if (head !== undefined) states.remember(stream, head.version, head.hash, result.state, result.eventsFolded > 0 ? head.version : snapshotAt);
        return result;
      }).deferred();
      // A snapshot from another machine definition (or an old one) is rebuilt, so the next read is O(1) again; an
      // older snapshot never overwrites a newer one. Outside a batch it is a favour, not the read's work: done when
      // the write lock is free at once, else left to the next read (a long import holds the lock for minutes).
      if (read.eventsFolded > 0 && !readonly) {
        if (activeBatch !== null) {
          writing();
          q.refreshSnapshot.run(stream, read.version, machineOf(stream), JSON.stringify(read.state));
        } else refreshWhenFree(stream, read);
      }
      return read;
    },

    async readCheckpoint(consumer) {
      await ready();
      return q.checkpoint.get(consumer)?.position ?? 0;
    },

    async saveCheckpoint(consumer, expected, next) {
      await ready();
      mutable('saveCheckpoint');
      try {
        writing();
        return db.transaction(() => {
          const now = new Date().toISOString();
          if (expected === 0) q.insertCheckpoint.run(consumer, 0, now);
          return q.updateCheckpoint.run(next, now, consumer, expected).changes === 1;
        }).immediate();
      } catch (error) {
        throw failure(error);
      }
    },

    async batch(fn) {
      // A batch inside the same batch is part of it.
      if (activeBatch !== null && batchContext.getStore() === activeBatch.token) return fn();
      // Claimed before the first await when the store is free, so that a call made after this one waits for it.
      while (activeBatch !== null) await activeBatch.done;
      open();
      let finish!: () => void;
      const token = Symbol('batch');
      const batch: OpenBatch = { token, done: new Promise<void>((resolve) => (finish = resolve)), begun: false, lastPosition: 0 };
      activeBatch = batch;
      try {
        const result = await batchContext.run(token, fn);
        // An append that failed half done (an I/O error after its rows went in) must not be committed.
        if (batch.poisoned !== undefined) throw batch.poisoned;
        if (batch.begun) {
          db.exec('COMMIT');
          wakeups.wake();
        }
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw failure(error);
      } finally {
        activeBatch = null;
        finish();
      }
    },

    async readProjection(name) {
      await ready();
      return readProjection(name);
    },

    async saveProjection(name, position, data) {
      await ready();
      mutable('saveProjection');
      const parts = checkProjectionSave(name, position, data);
      // A transaction of its own, or a savepoint in the batch's.
      try {
        writing();
        return saveProjection.immediate(name, position, parts);
      } catch (error) {
        throw failure(error);
      }
    },

    subscribe(consumer, handler, subscribeOptions) {
      // Appends from this process wake the consumer at once; other processes' appends are found by polling.
      return createSubscription(store, consumer, handler, subscribeOptions, { waitForNews: wakeups.waitForNews });
    },

    async streamHeads() {
      await ready();
      return q.heads.all() as Array<[string, string]>;
    },

    async close() {
      if (closed) return;
      closed = true;
      wakeups.wake();
      db.close();
    },
  };
  return store;
}

/** How many limits each read keeps a statement of its own for. */
const LIMITED_STATEMENTS = 16;

/**
 * The statement for `sql` with at most `limit` rows (no LIMIT when undefined): the limit written into the SQL,
 * which SQLite plans once, for the first LIMITED_STATEMENTS limits asked for; `LIMIT ?` bound after that.
 * `limit` has been checked: a whole number ≥ 0 (checkReadOptions).
 */
function limitedReads<P extends unknown[]>(db: SqliteDatabase, sql: string): (limit: number | undefined) => { all(...params: P): unknown[] } {
  const unlimited = db.prepare(sql).raw(true);
  const byLimit = new Map<number, Statement>();
  let bound: Statement | undefined;
  return (limit) => {
    if (limit === undefined) return unlimited as never;
    let statement = byLimit.get(limit);
    if (statement === undefined) {
      if (byLimit.size < LIMITED_STATEMENTS) {
        statement = db.prepare(`${sql} LIMIT ${limit}`).raw(true);
        byLimit.set(limit, statement);
      } else {
        bound ??= db.prepare(`${sql} LIMIT ?`).raw(true);
        const withLimit = bound;
        return { all: (...params: P) => withLimit.all(...params, limit) } as never;
      }
    }
    return statement as never;
  };
}
