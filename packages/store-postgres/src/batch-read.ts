/**
 * Reads a batch answers from what it holds, without a round trip (and without writing its buffered rows first):
 * once it has locked the log head, nobody else appends, so the log past its last flush is its pending rows, and the
 * heads it knows are exact. Each gives what the same read of the database would (undefined: ask the database).
 */
import { initialStateFor } from '@hotpatch/core';
import type { RecordedEvent, StreamStateRead } from '@hotpatch/store';
import { pendingEvent, type StreamHead } from './batch-rows.js';
import type { OpenBatch } from './batch.js';
import type { LogIndex } from './log-index.js';

/**
 * The head of `stream` without a round trip, where the batch knows it: its own, none (the index says the log has no
 * event of the stream), or the one this store cached, if exact. Undefined: read it.
 */
export function knownHead(batch: OpenBatch, index: LogIndex, stream: string): StreamHead | undefined {
  const head = batch.heads.get(stream);
  if (head !== undefined || !batch.caughtUp) return head;
  if (!index.mayHoldStream(stream)) return { version: 0, hash: null, state: initialStateFor(stream), wrote: false };
  const cached = index.exactHead(stream);
  return cached === undefined ? undefined : { version: cached.version, hash: cached.hash, state: cached.state, wrote: false };
}

/** The answer, or undefined: not known to the batch. */
export type Known<T> = { readonly value: T } | undefined;

export function createBatchReads(index: LogIndex) {
  /** The position of the first pending row; rows at or after it are the batch's pending ones, and none follow them. */
  const firstPending = (batch: OpenBatch) => batch.lastPosition! - batch.pending.ids.length + 1;
  return {
    readAll(batch: OpenBatch, from: number, limit: number | null): Known<RecordedEvent[]> {
      if (batch.lastPosition === undefined || from < firstPending(batch)) return undefined;
      const rows = batch.pending;
      const start = from - firstPending(batch);
      const end = Math.min(rows.ids.length, limit === null ? Infinity : start + limit);
      const events: RecordedEvent[] = [];
      for (let i = start; i < end; i++) events.push(pendingEvent(rows, i));
      return { value: events };
    },

    /** A pending event, or none where the log holds no such id (ids are unique across the log). */
    readEvent(batch: OpenBatch, stream: string, id: string): Known<RecordedEvent | undefined> {
      if (batch.lastPosition === undefined) return undefined;
      const row = batch.pendingIds.get(id);
      if (row !== undefined) return { value: batch.pending.streams[row] === stream ? pendingEvent(batch.pending, row) : undefined };
      return batch.caughtUp && !index.mayHoldId(id) ? { value: undefined } : undefined;
    },

    streamVersion(batch: OpenBatch, stream: string): Known<number> {
      if (batch.lastPosition === undefined) return undefined;
      const head = knownHead(batch, index, stream);
      return head === undefined ? undefined : { value: head.version };
    },

    /**
     * A stream the batch wrote (its snapshot, once flushed, is at its head: nothing to fold) or one without events;
     * the state as parsed from the snapshot would be, a copy.
     */
    readState(batch: OpenBatch, stream: string): Known<StreamStateRead> {
      if (batch.lastPosition === undefined) return undefined;
      const head = knownHead(batch, index, stream);
      if (head === undefined || (head.wrote ? false : head.version !== 0)) return undefined;
      const state = head.version === 0 ? initialStateFor(stream) : JSON.parse(JSON.stringify(head.state));
      return { value: { stream, version: head.version, state, snapshotVersion: head.version, eventsFolded: 0 } };
    },
  };
}

export type BatchReads = ReturnType<typeof createBatchReads>;
