/**
 * A stream's state as a durable store reads it: its latest snapshot, if the machine in use folded it, plus the
 * events after it. Written once for the SQLite and PostgreSQL stores, which differ only in how they read the rows.
 */
import { initialStateFor, lifecycleFor, type MachineState } from '@hotpatch/core';
import type { RecordedEvent, StreamStateRead } from './types.js';

type State = MachineState<string, object>;

/** A stream's snapshot as a store keeps it: its state at `version`, folded by `machine` (a fingerprint), stored as `S`. */
export interface StoredSnapshot<S = State> {
  readonly version: number;
  readonly machine: string;
  readonly state: S;
}

/** A folded state, and the version of the snapshot the store holds (0: none; usable or not): when to write the next one. */
export interface FoldedState extends StreamStateRead {
  readonly snapshotAt: number;
}

export interface SnapshotFold<S, R> {
  /** The version the fold of `stream` up to `version` starts after: the snapshot's if usable, else 0. Read the rows after it. */
  startAfter(stream: string, version: number, snapshot: StoredSnapshot<S> | undefined): number;
  /** The state at `version`: the snapshot if usable, else the initial state, plus `rows` (the events after `startAfter`, in order). */
  fold(stream: string, version: number, snapshot: StoredSnapshot<S> | undefined, rows: readonly R[]): FoldedState;
}

/**
 * The fold for one store: how it names the machine of a stream, reads a stored state (`parse`) and turns a row into
 * an event. A snapshot is usable when the machine in use folded it and it is not past the version read (a snapshot
 * from another machine definition is ignored: the events are folded again).
 */
export function snapshotFold<S, R>(options: {
  readonly machineOf: (stream: string) => string;
  readonly parse: (state: S) => State;
  readonly toEvent: (row: R) => RecordedEvent;
}): SnapshotFold<S, R> {
  const { machineOf, parse, toEvent } = options;
  const usable = (stream: string, version: number, snapshot: StoredSnapshot<S> | undefined): snapshot is StoredSnapshot<S> =>
    snapshot !== undefined && snapshot.machine === machineOf(stream) && snapshot.version <= version;
  return {
    startAfter: (stream, version, snapshot) => (usable(stream, version, snapshot) ? snapshot.version : 0),
    fold(stream, version, snapshot, rows) {
      const from = usable(stream, version, snapshot);
      let state = from ? parse(snapshot.state) : initialStateFor(stream);
      if (rows.length > 0) {
        const lifecycle = lifecycleFor(stream);
        for (const row of rows) {
          const event = toEvent(row);
          state = lifecycle.evolve(state, event, { stream, version: event.version });
        }
      }
      return { stream, version, state, snapshotVersion: from ? snapshot.version : 0, eventsFolded: rows.length, snapshotAt: snapshot?.version ?? 0 };
    },
  };
}
