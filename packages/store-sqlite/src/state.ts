/**
 * A stream's state in the SQLite store: as this process last folded it at the stream's head (StateCache), else its
 * snapshot plus the events after it (snapshotFold), and the snapshot rebuilt when a read had to fold.
 */
import type { MachineState } from '@hotpatch/core';
import { snapshotFold, StateCache, type FoldedState, type StoredSnapshot, type StreamStateRead } from '@hotpatch/store';
import type { SqliteContext } from './context.js';
import { toEvent, type EventRow } from './statements.js';

/** Streams whose last folded state is kept in memory by default. */
const RECENT_STATES = 10_000;
const NO_ROWS: readonly EventRow[] = [];

/** A stream's head (undefined: no stream) and, when read with it, its snapshot (null: none; undefined: not read). */
export interface FirstRead {
  readonly head: { version: number; hash: string } | undefined;
  readonly snapshot: StoredSnapshot<string> | null | undefined;
}

export interface StreamStates {
  /** The stream's state at its head (`version`, and `hash` its last event's; undefined for none); `snapshot` as read with the head, if it was. */
  stateOf(stream: string, version: number, hash?: string, snapshot?: StoredSnapshot<string> | null): FoldedState;
  /**
   * The stream's head, and its snapshot too when no state is kept for it (a stream this process has not read or
   * written, or evicted): one statement for both, where reading them apart was two.
   */
  head(stream: string): FirstRead;
  /** The states folded at recent heads: an append keeps the one it folded there. */
  readonly cache: StateCache;
  /** The stream's state as of now, for readState: rebuilds the snapshot if it had to fold. */
  read(stream: string): StreamStateRead;
}

export function createStreamStates(ctx: SqliteContext, cacheSize = RECENT_STATES): StreamStates {
  const { db, sql: q, batches, machineOf, readonly, timeoutMs } = ctx;
  const cache = new StateCache(cacheSize);
  const fold = snapshotFold<string, EventRow>({ machineOf, parse: (text) => JSON.parse(text) as MachineState<string, object>, toEvent });

  const stateOf = (stream: string, version: number, hash?: string, snapshot?: StoredSnapshot<string> | null): FoldedState => {
    const known = cache.at(stream, version, hash);
    if (known !== undefined) return { stream, version, state: known.state, snapshotVersion: version, eventsFolded: 0, snapshotAt: known.snapshotAt };
    const snap = snapshot === undefined ? q.snapshot.get(stream) : (snapshot ?? undefined);
    const after = fold.startAfter(stream, version, snap);
    return fold.fold(stream, version, snap, after < version ? (q.readStreamRows(undefined).all(stream, after + 1, version) as EventRow[]) : NO_ROWS);
  };

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

  /**
   * The stream's state at `head` (read first), with no transaction: the events up to that head never change, and a
   * snapshot is used only at or below it (a newer one, written meanwhile, is passed over for the events), so
   * statements run one after another still read the state at that head. A transaction (BEGIN, COMMIT, better-sqlite3's
   * wrappers) was half the cost of a service's token check on a stream not read before.
   */
  const readAtHead = ({ head, snapshot }: FirstRead, stream: string): StreamStateRead => {
    const { snapshotAt, ...result } = stateOf(stream, head?.version ?? 0, head?.hash, snapshot);
    if (head !== undefined) cache.remember(stream, head.version, head.hash, result.state, result.eventsFolded > 0 ? head.version : snapshotAt);
    return result;
  };

  const head = (stream: string): FirstRead => {
    if (cache.has(stream)) return { head: q.stream.get(stream), snapshot: undefined };
    const row = q.headAndSnapshot.get(stream)!;
    return {
      head: row.version === null ? undefined : { version: row.version, hash: row.hash! },
      snapshot: row.snapshotVersion === null ? null : { version: row.snapshotVersion, machine: row.machine!, state: row.state! },
    };
  };

  return {
    stateOf,
    head,
    cache,
    read(stream) {
      // A state kept for the stream, still at the head the store has now: one statement. An authentication's read of
      // its token, at every request of a service, is this one.
      const first = head(stream);
      const kept = first.head === undefined || !cache.has(stream) ? undefined : cache.at(stream, first.head.version, first.head.hash);
      if (kept !== undefined) {
        kept.used = true;
        return { stream, version: first.head!.version, state: kept.state, snapshotVersion: first.head!.version, eventsFolded: 0 };
      }
      const read = readAtHead(first, stream);
      // A snapshot from another machine definition (or an old one) is rebuilt, so the next read is O(1) again; an
      // older snapshot never overwrites a newer one. Outside a batch it is a favour, not the read's work: done when
      // the write lock is free at once, else left to the next read (a long import holds the lock for minutes). A
      // batch that has not written yet does not take the lock for it: another handle may hold it (file-gate.ts).
      if (read.eventsFolded > 0 && !readonly) {
        if (batches.active?.begun === true) {
          q.refreshSnapshot.run(stream, read.version, machineOf(stream), JSON.stringify(read.state));
        } else refreshWhenFree(stream, read);
      }
      return read;
    },
  };
}
