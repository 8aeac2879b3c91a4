/**
 * An append to the SQLite store: every check, the stream's state folded through the batch, the hash chain, the rows
 * in INSERTs of up to INSERT_ROWS, the stream's head and (now and then) its snapshot, in one immediate transaction
 * (or in the open batch's). A retry of events the stream holds is looked up only once the append is refused.
 */
import { InvalidEventError, lifecycleFor, TransitionRefusedError } from '@hotpatch/core';
import {
  alreadyAppended,
  checkBatch,
  checkExpectedVersion,
  checkStreamName,
  eventHash,
  GENESIS_HASH,
  IdempotencyConflictError,
  judgeHeldIds,
  nothingAppended,
  verifiedHashesOf,
  WrongExpectedVersionError,
  type AppendOptions,
  type AppendResult,
  type NewEvent,
  type RecordedEvent,
} from '@hotpatch/store';
import type { SqliteContext } from './context.js';
import { INSERT_ROWS, toEvent, type EventRow } from './statements.js';
import type { KnownHeads } from './known-heads.js';
import type { FirstRead, StreamStates } from './state.js';

/** One-event appends write the stream's snapshot once it is this many versions behind. */
const SNAPSHOT_EVERY = 8;

/** The store's appendToStream, once it is ready and writable: the result, or a typed error. */
export function createAppend(ctx: SqliteContext, states: StreamStates, heads: KnownHeads): (stream: string, events: readonly NewEvent[], options: AppendOptions) => AppendResult {
  const { db, sql: q, batches, newId, machineOf, failure } = ctx;
  const { insertRows } = q;
  const { cache } = states;
  /** Set once an append's rows are in: a failure after that leaves the append half done (see the batch's path below). */
  let inserted = false;

  /**
   * A retry of a batch the stream holds: the original result. Undefined when the log holds none of its ids. An id
   * another stream holds: EventIdTakenError; an id held as another event: EventIdReusedError; a batch partly held:
   * IdempotencyConflictError (judgeHeldIds). Looked up only when an append is refused (a held batch always is: by
   * the expected version, by the lifecycle or by the unique index on ids), not on every append.
   */
  const retryOf = (stream: string, events: readonly NewEvent[], before: number): AppendResult | undefined => {
    // Rows of the stream past the version it had before this append are the append's own (earlier INSERTs of a
    // long batch).
    const held = events.map((e) => {
      const h = e.id === undefined ? undefined : q.eventById.get(e.id);
      return h !== undefined && !(h.stream === stream && h.version > before) ? { ...h, data: JSON.parse(h.data) as unknown } : undefined;
    });
    if (judgeHeldIds(stream, events, held) !== 'retry') return undefined;
    return alreadyAppended(stream, held.map((h) => toEvent(q.readStreamRows(1).all(stream, h!.version, h!.version)[0] as EventRow)));
  };

  const write = (stream: string, events: readonly NewEvent[], appendOptions: AppendOptions, { head, snapshot }: FirstRead): AppendResult => {
    const actual = head?.version ?? 0;
    checkExpectedVersion(stream, appendOptions.expectedVersion ?? 'any', actual);
    checkBatch(stream, events, actual + 1);
    if (events.length === 0) return nothingAppended(stream, actual);

    let { state, snapshotAt } = states.stateOf(stream, actual, head?.hash, snapshot);
    // A checked run's hashes are taken as given and its events recorded as handed over (see VERIFIED_HASHES).
    const verified = verifiedHashesOf(appendOptions, stream, events.length, head?.hash)?.hashes;
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
      if (batches.active?.begun) batches.active.lastPosition = last;
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
          ? { id, stream, version, type: e.type, time: e.time, data: verified ? e.data : JSON.parse(data), position: 0, hash: '' }
          : { id, stream, version, type: e.type, time: e.time, data: verified ? e.data : JSON.parse(data), meta: verified ? e.meta : JSON.parse(meta), position: 0, hash: '' }
      ) as RecordedEvent;
      prev = verified ? verified[i]! : eventHash(prev, event, { data, meta });
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
    heads.know(stream, { version: last, hash: prev });
    // A snapshot for every batch of events, and after every SNAPSHOT_EVERY single events: a read folds at most that
    // many on top of it, and one-event appends (most of a service's) do not rewrite the state each time.
    if (events.length > 1 || snapshotAt === 0 || last - snapshotAt >= SNAPSHOT_EVERY) {
      q.upsertSnapshot.run(stream, last, machineOf(stream), JSON.stringify(state));
      snapshotAt = last;
    }
    cache.remember(stream, last, prev, state, snapshotAt);
    for (let i = 0; i < recorded.length; i++) (recorded[i] as { position: number }).position = positions[i]!;
    return { stream, nextExpectedVersion: last, positions, versions, written: true, events: recorded };
  };

  const appendRows = (stream: string, events: readonly NewEvent[], appendOptions: AppendOptions): AppendResult => {
    // Inside a batch holding the write lock, the head this connection last read or wrote, when no other connection
    // has committed since (known-heads.ts): one statement an append fewer.
    // Else the head read, with the snapshot in the same statement when no state is kept for the stream.
    const known = heads.head(stream);
    const first = known !== undefined ? { head: known, snapshot: undefined } : states.head(stream);
    const head = first.head;
    if (known === undefined && head !== undefined) heads.know(stream, head);
    try {
      return write(stream, events, appendOptions, first);
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

  return (stream, events, appendOptions) => {
    checkStreamName(stream);
    if (!Array.isArray(events)) throw new InvalidEventError({ stream }, 'expected an array of events', 'events');
    try {
      batches.writing();
    } catch (error) {
      throw failure(error);
    }
    // Inside a batch, an append of one INSERT statement needs no savepoint of its own: everything that can refuse
    // it does so before its first write, and the INSERT is atomic. After it, only an I/O error can fail the rest,
    // and that poisons the batch (it will not commit; batches.writing refuses its later writes).
    const batch = batches.active;
    if (batch !== null && events.length <= INSERT_ROWS) {
      inserted = false;
      try {
        return appendRows(stream, events, appendOptions);
      } catch (error) {
        heads.drop(stream);
        // Half done, or the batch's whole transaction rolled back by SQLite (a full disk on a one-row INSERT).
        if (inserted || !db.inTransaction) batch.poisoned = error;
        throw failure(error);
      }
    }
    try {
      return append.immediate(stream, events, appendOptions);
    } catch (error) {
      // A savepoint or transaction undone: the head known for the stream may be gone with it; and a batch whose
      // transaction SQLite rolled back (a full disk on the last, one-row INSERT) will not commit.
      heads.drop(stream);
      if (batch !== null && !db.inTransaction) batch.poisoned = error;
      throw failure(error);
    }
  };
}
