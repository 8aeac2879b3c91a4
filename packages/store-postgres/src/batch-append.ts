/**
 * An append inside a batch: the log head locked at the batch's first one (so no other writer moves any stream until
 * the batch ends), the stream's head from the batch's own record or read once, and where the log holds the ids the
 * caller gave (one round trip); then every check, and the rows buffered, to be written many at once. A refused
 * append has buffered nothing: the batch's others stand.
 */
import { initialStateFor, type MachineState } from '@hotpatch/core';
import { checkBatch, checkExpectedVersion, checkTransitions, judgeHeldIds, nothingAppended, type AppendResult, type ExpectedVersion, type NewEvent, type RecordedEvent } from '@hotpatch/store';
import { retryResult } from './append.js';
import type { Batches, HeldRow, OpenBatch } from './batch.js';
import { chain } from './chain.js';
import type { PostgresContext } from './context.js';
import type { StreamStates } from './state.js';

/** A batch's rows are written once this many are buffered (and before anything reads, and at its commit). */
const FLUSH_ROWS = 2_000;

export function createBatchAppend(ctx: PostgresContext, batches: Batches, states: StreamStates) {
  const q = ctx.sql;
  return async (batch: OpenBatch, stream: string, events: readonly NewEvent[], ids: readonly string[], expectedVersion: ExpectedVersion): Promise<AppendResult> => {
    await batches.client(batch);
    if (batch.lastPosition === undefined) {
      batch.lastPosition = Number((await batches.query<{ position: string }>(batch, q.lockLogHead)).rows[0]!.position);
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
        await batches.query<{ version: number | null; hash: string | null; snapshot_version: number | null; machine: string; state: MachineState<string, object>; held: HeldRow[] | null }>(batch, {
          ...q.batchHead,
          values: [stream, given],
        })
      ).rows[0]!;
      found = row.held ?? [];
      const version = row.version ?? 0;
      const snap = row.snapshot_version !== null ? { version: row.snapshot_version, machine: row.machine, state: row.state } : undefined;
      head = { version, hash: row.hash, state: (await states.foldState(batches.db(batch), stream, version, snap)).state };
      batch.heads.set(stream, head);
    } else if (given.length > 0) {
      found = (await batches.query<HeldRow>(batch, { ...q.eventsById, values: [given] })).rows.map((r) => ({ ...r, position: Number(r.position) }));
    }
    const byId = new Map(found.map((r) => [r.id, r]));
    const held = events.map((e, i) => (e?.id === undefined ? undefined : (batch.pendingIds.get(ids[i]!) ?? byId.get(ids[i]!))));
    // A retry of events the stream holds gives the original result; ids held elsewhere or as other events are refused.
    if (held.some((h) => h !== undefined) && judgeHeldIds(stream, events, held) === 'retry') {
      await batches.flush(batch);
      return (await retryResult(ctx, batches.db(batch), stream, events))!;
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
    if (rows.ids.length >= FLUSH_ROWS) await batches.flush(batch);
    return { stream, nextExpectedVersion: last, positions, versions, written: true, events: recorded };
  };
}
