/**
 * What a store object knows of the whole log up to a position: every event's id and stream (IdFilter: "surely not"
 * or "maybe"), and which of its cached heads are exact. A batch brings it up to date when it has locked the log head
 * (no other writer can append until it commits), reading the events after `position` (the README's Batches).
 */
import type { MachineState } from '@hotpatch/core';
import type { CachedState, StateCache } from '@hotpatch/store';
import { IdFilter } from './id-filter.js';

/** At most this many events are read into the index per batch: a store opened on a long log catches up over several. */
export const INDEX_SCAN = 100_000;

/** Stream names and event ids share the filter; a stream is entered under this prefix. */
const STREAM = '\u0000';

export class LogIndex {
  /** Every event at or below it is in the filter: 0 (no event) at first. */
  private position = 0;
  private names?: IdFilter;
  /** The cached heads known to be the streams' heads as of `position` and since (see `caughtUp`). */
  private exact = new WeakSet<CachedState>();

  constructor(private readonly heads: StateCache) {}

  /** The events the index lacks, as a batch reads them: positions after this one, up to INDEX_SCAN of them. */
  get from(): number {
    return this.position;
  }

  /**
   * Takes in the events a batch read after `from` (`rows`: stream and id), the log's last position being `last`.
   * True when the index now covers the whole log: an id or a stream it surely does not hold is not in the log.
   */
  caughtUp(rows: ReadonlyArray<readonly [stream: string, id: string]>, last: number): boolean {
    if (last < this.position) {
      // The log is shorter than the index: not the log it was built on. Start again.
      this.position = 0;
      this.names = undefined;
      this.exact = new WeakSet();
      return false;
    }
    const names = (this.names ??= new IdFilter());
    for (const [stream, id] of rows) {
      names.add(id);
      names.add(STREAM + stream);
      this.unmark(stream);
    }
    this.position = Math.min(last, this.position + INDEX_SCAN);
    return this.position === last;
  }

  /** False: no event of the log (as caught up) nor of a batch since has this id. */
  mayHoldId(id: string): boolean {
    return this.names?.mayHold(id) ?? true;
  }

  /** False: the stream has no event in the log (as caught up) nor in a batch since. */
  mayHoldStream(stream: string): boolean {
    return this.names?.mayHold(STREAM + stream) ?? true;
  }

  /** A batch appends to the stream, or these ids: "maybe" from now on, whether or not it commits. */
  addStream(stream: string): void {
    (this.names ??= new IdFilter()).add(STREAM + stream);
  }

  addIds(ids: readonly string[]): void {
    const names = (this.names ??= new IdFilter());
    for (let i = 0; i < ids.length; i++) names.add(ids[i]!);
  }

  /** The head this store cached for `stream` if it is the stream's head (as of the index's position). */
  exactHead(stream: string): CachedState | undefined {
    const cached = this.heads.get(stream);
    return cached !== undefined && this.exact.has(cached) ? cached : undefined;
  }

  /** The cached head of `stream` may be behind (the stream was written since): it is a guess again. */
  unmark(stream: string): void {
    const cached = this.heads.get(stream);
    if (cached !== undefined) this.exact.delete(cached);
  }

  /**
   * A batch committed: the heads it knew are exact (it held the log head from the position it caught the index up to,
   * if it did, to `last`), and so is the index up to `last`. An append outside a batch caches a new, unmarked head.
   */
  committed(heads: ReadonlyMap<string, { readonly version: number; readonly hash: string | null; readonly state: MachineState<string, object> }>, caughtUp: boolean, last: number): void {
    for (const [stream, head] of heads) {
      if (head.hash === null) continue;
      this.heads.remember(stream, head.version, head.hash, head.state, head.version);
      const cached = this.heads.get(stream);
      if (cached !== undefined) this.exact.add(cached);
    }
    if (caughtUp) this.position = last;
  }
}
