/**
 * An append inside a batch: the log head locked at the batch's first one (so no other writer moves any stream until
 * the batch ends); the stream's head and where the log holds the ids the caller gave, from what the batch and the
 * store's log index know, else read (one round trip); then every check, and the rows buffered, to be written many at
 * once. A refused append has buffered nothing: the batch's others stand.
 */
import type { MachineState } from '@hotpatch/core';
import { checkBatch, checkExpectedVersion, checkStreamName, checkTransitions, judgeHeldIds, nothingAppended, verifiedHashesOf, type AppendOptions, type AppendResult, type NewEvent, type RecordedEvent } from '@hotpatch/store';
import { retryResult } from './append.js';
import { knownHead } from './batch-read.js';
import { pendingEvent, type HeldRow } from './batch-rows.js';
import type { Batches, OpenBatch } from './batch.js';
import { chain } from './chain.js';
import type { PostgresContext } from './context.js';
import type { LogIndex } from './log-index.js';
import type { StreamStates } from './state.js';

/** A batch sends its rows once this many are buffered (and writes them before anything reads, and at its commit). */
const SEND_ROWS = 2_000;

/** A batch keeps the heads of this many streams; past it, it writes them and forgets the older half. */
const BATCH_HEADS = 100_000;

export function createBatchAppend(ctx: PostgresContext, batches: Batches, states: StreamStates, index: LogIndex) {
  const q = ctx.sql;

  /** Writes the heads the batch holds and forgets the older half, so that a batch over many streams stays within BATCH_HEADS. */
  const forget = async (batch: OpenBatch) => {
    await batches.flush(batch);
    let drop = batch.heads.size / 2;
    for (const stream of batch.heads.keys()) {
      if (drop-- <= 0) break;
      batch.heads.delete(stream);
    }
  };

  return async (batch: OpenBatch, stream: string, events: readonly NewEvent[], ids: readonly string[], options: AppendOptions): Promise<AppendResult> => {
    if (batch.lastPosition === undefined) await batches.lock(batch);
    const rows = batch.pending;
    // Ids the store generated are new; those the caller gave are looked for among the pending rows, then in the
    // log, unless the index says the log surely does not hold them.
    let heldPending = false;
    const given: string[] = [];
    for (let i = 0; i < events.length; i++) {
      if (events[i]?.id === undefined) continue;
      const id = ids[i]!;
      if (batch.pendingIds.has(id)) heldPending = true;
      else if (!batch.caughtUp || index.mayHoldId(id)) given.push(id);
    }
    let head = knownHead(batch, index, stream);
    let found: readonly HeldRow[] = [];
    if (head === undefined) {
      const row = (
        await batches.query<{ version: number | null; hash: string | null; snapshot_version: number | null; machine: string; state: MachineState<string, object>; held: HeldRow[] | null }>(batch, {
          ...q.batchHead,
          values: [stream, given],
        })
      ).rows[0]!;
      found = row.held ?? [];
      const version = row.version ?? 0;
      const snap = row.snapshot_version !== null ? { version: row.snapshot_version, machine: row.machine, state: row.state } : undefined;
      head = { version, hash: row.hash, state: (await states.foldState(batches.db(batch), stream, version, snap)).state, wrote: false };
    } else if (given.length > 0) {
      found = (await batches.query<HeldRow>(batch, { ...q.eventsById, values: [given] })).rows.map((r) => ({ ...r, position: Number(r.position) }));
    }
    if (!batch.heads.has(stream)) {
      if (batch.heads.size >= BATCH_HEADS) await forget(batch);
      batch.heads.set(stream, head);
    }
    if (heldPending || found.length > 0) {
      // A retry of events the stream holds gives the original result; ids held elsewhere or as other events are refused.
      const byId = new Map(found.map((r) => [r.id, r]));
      const held = events.map((e, i) => {
        if (e?.id === undefined) return undefined;
        const row = batch.pendingIds.get(ids[i]!);
        return row !== undefined ? pendingEvent(rows, row) : byId.get(ids[i]!);
      });
      if (judgeHeldIds(stream, events, held) === 'retry') {
        await batches.flush(batch);
        return (await retryResult(ctx, batches.db(batch), stream, events))!;
      }
    }
    checkExpectedVersion(stream, options.expectedVersion ?? 'any', head.version);
    checkBatch(stream, events, head.version + 1);
    if (events.length === 0) return nothingAppended(stream, head.version);
    const state = checkTransitions(stream, head.state, events, head.version + 1);
    const verified = verifiedHashesOf(options, stream, events.length, head.hash);
    const { recorded, versions, types, times, hashes, dataTexts, metaTexts } = chain(stream, events, ids, head.version, head.hash, verified);
    const first = batch.lastPosition! + 1;
    const positions: number[] = [];
    for (let i = 0; i < events.length; i++) {
      const position = first + i;
      positions.push(position);
      (recorded[i] as { position: number } & RecordedEvent).position = position;
      batch.pendingIds.set(ids[i]!, rows.ids.length);
      rows.positions.push(position);
      rows.streams.push(stream);
      rows.versions.push(versions[i]!);
      rows.ids.push(ids[i]!);
      rows.types.push(types[i]!);
      rows.times.push(times[i]!);
      rows.data.push(dataTexts[i]!);
      rows.meta.push(metaTexts[i]!);
      rows.hashes.push(hashes[i]!);
    }
    batch.lastPosition = first + events.length - 1;
    const last = head.version + events.length;
    if (!head.wrote) {
      // The head this store cached for the stream is behind now, whether or not the batch commits.
      index.unmark(stream);
      index.addStream(stream);
    }
    index.addIds(ids);
    batch.heads.set(stream, { version: last, hash: hashes.at(-1)!, state, wrote: true });
    batch.dirty.add(stream);
    batch.written = true;
    if (rows.ids.length >= SEND_ROWS) await batches.send(batch);
    return { stream, nextExpectedVersion: last, positions, versions, written: true, events: recorded };
  };
}

/** A head as `batchHeads` reads it. */
type HeadsRow = { stream: string; version: number | null; hash: string | null; snapshot_version: number | null; machine: string; state: MachineState<string, object> };

/** A name the store could hold: a hint naming anything else (a malformed id) is passed over, not sent. */
const holdable = (stream: string) => {
  try {
    checkStreamName(stream);
    return true;
  } catch {
    return false;
  }
};

/**
 * `willAppend` in a batch: the heads of the streams it is about to append to that it does not know, read in one round
 * trip under the batch's lock on the log head (so they are exact to its end, as each append's own read would be), in
 * the round trip that takes the lock when the batch has not taken it yet, instead of one round trip each, one after
 * the other. A stream read here and not appended to costs nothing more.
 */
export function createBatchPreload(ctx: PostgresContext, batches: Batches, states: StreamStates, index: LogIndex) {
  const q = ctx.sql;
  const take = async (batch: OpenBatch, rows: readonly HeadsRow[]) => {
    for (const row of rows) {
      if (batch.heads.has(row.stream)) continue;
      const version = row.version ?? 0;
      const snap = row.snapshot_version !== null ? { version: row.snapshot_version, machine: row.machine, state: row.state } : undefined;
      const { state } = await states.foldState(batches.db(batch), row.stream, version, snap);
      batch.heads.set(row.stream, { version, hash: row.hash, state, wrote: false });
    }
  };
  return async (batch: OpenBatch, streams: readonly string[]): Promise<void> => {
    const named = [...new Set(streams)].filter(holdable);
    // One stream: its append's own read is the same round trip. Past the heads a batch keeps: left to the appends.
    const worth = (asked: readonly string[]) => asked.length >= 2 && batch.heads.size + asked.length <= BATCH_HEADS;
    if (batch.lastPosition === undefined) {
      // Before the lock, what the batch and this store's exact heads know; a head the lock's scan finds moved is
      // read at its append, as without the hint.
      const asked = named.filter((stream) => !batch.heads.has(stream) && index.exactHead(stream) === undefined);
      // Nothing worth reading: the lock alone, which the first append would take, for a batch about to append (its
      // reads after it are then the log's as it commits: an orchestrator's projection caught up under it decides
      // on what no other writer can move); none for a hint naming nothing.
      if (!worth(asked)) return named.length > 0 ? batches.lock(batch) : undefined;
      const { rows, fields } = await batches.lockWith(batch, q.batchHeadsText(asked));
      const names = fields.map((f) => f.name);
      return take(batch, (rows as unknown as unknown[][]).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])) as HeadsRow));
    }
    const unknown = named.filter((stream) => knownHead(batch, index, stream) === undefined);
    if (!worth(unknown)) return;
    const { rows } = await batches.query<HeadsRow>(batch, { ...q.batchHeads, values: [unknown] });
    await take(batch, rows);
  };
}
