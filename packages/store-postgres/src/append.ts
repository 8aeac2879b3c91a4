/**
 * An append to the PostgreSQL store outside a batch: the stream's head read (or guessed from this store's last
 * write), every check and the hash chain, then one write statement that moves the head only from the version
 * checked; tried again when the stream moved in between. See the README's "How an append runs".
 */
import { TransitionRefusedError, type MachineState } from '@hotpatch/core';
import {
  alreadyAppended,
  checkBatch,
  checkExpectedVersion,
  checkTransitions,
  judgeHeldIds,
  nothingAppended,
  verifiedHashesOf,
  WrongExpectedVersionError,
  type AppendOptions,
  type StateCache,
  type AppendResult,
  type ExpectedVersion,
  type NewEvent,
} from '@hotpatch/store';
import type { ClientBase, Pool } from 'pg';
import { chain } from './chain.js';
import type { PostgresContext } from './context.js';
import { ConnectionLostError, isConnectionError } from './errors.js';
import { toEvent, unheld, type EventRow } from './statements.js';
import type { StreamStates } from './state.js';

/**
 * A retry of a batch the stream holds: the original result. Undefined when the log holds none of its ids (it did
 * when the caller looked: the append is tried again). An id another stream holds: EventIdTakenError; an id held
 * as another event: EventIdReusedError; a batch partly held: IdempotencyConflictError (judgeHeldIds).
 */
export async function retryResult(ctx: PostgresContext, db: ClientBase | Pool, stream: string, events: readonly NewEvent[]): Promise<AppendResult | undefined> {
  const q = ctx.sql;
  const ids = events.flatMap((e) => (e.id === undefined ? [] : [e.id]));
  const { rows } = await db.query<{ id: string; stream: string; version: number; position: string; type: string; data: unknown }>({ ...q.eventsById, values: [ids] });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const held = events.map((e) => (e.id === undefined ? undefined : byId.get(e.id)));
  if (judgeHeldIds(stream, events, held) === 'new') return undefined;
  const versions = held.map((h) => h!.version);
  const { rows: read } = await db.query<never>({ ...q.readStream, values: [stream, Math.min(...versions), Math.max(...versions), null], rowMode: 'array' });
  const byVersion = new Map((read as unknown as EventRow[]).map((r) => [r[2], toEvent(r)]));
  return alreadyAppended(stream, versions.map((v) => byVersion.get(v)!));
}

/**
 * The store's append outside a batch, once the ids are fixed (`sent`: the events with them, for ConnectionLostError).
 * `heads` holds the head and state this store last wrote for each recently appended stream: only a guess, checked by
 * the write, and a refusal on a guess is judged again on a fresh read.
 */
export function createAppend(ctx: PostgresContext, states: StreamStates, heads: StateCache) {
  const { pool, sql: q, channel, machineOf, busy } = ctx;

  /**
   * One attempt at an append: the stream's head (read, or guessed from `heads`), every check and the hash chain,
   * then the write statement. Undefined when the stream was not where the attempt started from: try again.
   */
  const appendOnce = async (stream: string, events: readonly NewEvent[], ids: readonly string[], options: AppendOptions, guess: boolean): Promise<AppendResult | undefined> => {
    const expectedVersion: ExpectedVersion = options.expectedVersion ?? 'any';
    const known = guess ? heads.get(stream) : undefined;
    let actual: number;
    let headHash: string | null;
    let state: MachineState<string, object>;
    if (known !== undefined) {
      // A held id is found by the unique index when the write inserts it (see below).
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
          // An id no row holds (a NUL, a lone surrogate: statements.ts's unheld) is not looked for: the checks below
          // refuse it by name.
          values: [stream, typeof events[0]?.id !== 'string' || unheld(events[0].id) ? null : events[0].id],
        })
      ).rows[0]!;
      // A retry of a batch the stream holds returns the original result and writes nothing; a batch whose first id
      // another stream holds is refused.
      if (found.holder !== null) return retryResult(ctx, pool, stream, events);
      actual = found.version ?? 0;
      headHash = found.hash;
      try {
        checkExpectedVersion(stream, expectedVersion, actual);
        checkBatch(stream, events, actual + 1);
        if (events.length === 0) return nothingAppended(stream, actual);
        const snap = found.snapshot_version !== null ? { version: found.snapshot_version, machine: found.machine, state: found.state } : undefined;
        state = checkTransitions(stream, (await states.foldState(pool, stream, actual, snap)).state, events, actual + 1);
      } catch (error) {
        // Refused by the version or the lifecycle: a batch the log holds (a retry, or ids reused) is judged by its
        // ids first, as in every store.
        if (error instanceof WrongExpectedVersionError || error instanceof TransitionRefusedError) {
          const retry = await retryResult(ctx, pool, stream, events);
          if (retry !== undefined) return retry;
        }
        throw error;
      }
    }
    // Data and meta go as one JSON array each (one native stringify for the batch, no per-element escaping by the
    // driver; the server splits them, keeping each element's text as it is).
    const verified = verifiedHashesOf(options, stream, events.length, headHash);
    const { recorded, versions, types, times, hashes, dataTexts, metaTexts } = chain(stream, events, ids, actual, headHash, verified);
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

  return async (stream: string, events: readonly NewEvent[], ids: readonly string[], sent: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> => {
    // The first attempt may start from this store's last write to the stream; any other reads it.
    for (let guess = heads.has(stream); ; guess = false) {
      let result: AppendResult | undefined;
      try {
        result = await appendOnce(stream, events, ids, options, guess);
      } catch (error) {
        const lost = (e: unknown) => (isConnectionError(e) ? new ConnectionLostError('append', stream, e, sent) : busy(e));
        // Some of the batch's ids are in the log though the first is not (or the head was guessed): which, and
        // where, is read now.
        const constraint = (error as { code?: string; constraint?: string }).code === '23505' ? (error as { constraint?: string }).constraint : undefined;
        if (constraint === 'events_id') {
          result = await retryResult(ctx, pool, stream, events).catch((e: unknown) => Promise.reject(lost(e)));
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
      return result;
    }
  };
}
