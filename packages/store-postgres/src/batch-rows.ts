/** A batch's buffered rows, column by column, as the flush statement takes them, and read back as events. */
import type { MachineState } from '@hotpatch/core';
import type { HeldId, RecordedEvent } from '@hotpatch/store';

export interface PendingRows {
  readonly positions: number[];
  readonly streams: string[];
  readonly versions: number[];
  readonly ids: string[];
  readonly types: string[];
  readonly times: string[];
  /** Each event's data and meta as written ('null': no meta), the text its hash was taken over. */
  readonly data: string[];
  readonly meta: string[];
  readonly hashes: string[];
}

export const pendingRows = (): PendingRows => ({ positions: [], streams: [], versions: [], ids: [], types: [], times: [], data: [], meta: [], hashes: [] });

/** Where the log holds an id, as the batch lookups read it. */
export type HeldRow = HeldId & { readonly id: string; readonly position: number };

/** A stream's head as a batch knows it: exact, since no other writer can move it while the batch holds the log head. */
export interface StreamHead {
  readonly version: number;
  /** Null for a stream without events. */
  readonly hash: string | null;
  readonly state: MachineState<string, object>;
  /** The batch appended to the stream: its row in `streams` and its snapshot are the batch's (once flushed in full). */
  readonly wrote: boolean;
}

/** Row `i` of `rows` as a read from the database gives it (see toEvent): a new object, data and meta parsed from their text (a HeldRow too). */
export function pendingEvent(rows: PendingRows, i: number): RecordedEvent {
  const meta = rows.meta[i]!;
  return {
    id: rows.ids[i]!,
    stream: rows.streams[i]!,
    version: rows.versions[i]!,
    type: rows.types[i]!,
    time: rows.times[i]!,
    data: JSON.parse(rows.data[i]!) as unknown,
    ...(meta !== 'null' ? { meta: JSON.parse(meta) as Record<string, unknown> } : {}),
    position: rows.positions[i]!,
    hash: rows.hashes[i]!,
  } as RecordedEvent;
}

/**
 * The flush statement's parameters (see flushStatement): `rows`, and the heads and snapshots of `streams`, each at the
 * head the batch knows; `last`, the log's last position.
 */
export function flushValues(rows: PendingRows, streams: readonly string[], heads: ReadonlyMap<string, StreamHead>, machineOf: (stream: string) => string, last: number): unknown[] {
  const written = streams.map((stream) => heads.get(stream)!);
  return [
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
    written.map((h) => h.version),
    written.map((h) => h.hash),
    streams.map(machineOf),
    JSON.stringify(written.map((h) => h.state)),
    last,
  ];
}
