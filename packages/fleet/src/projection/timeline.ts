/**
 * The projection as immutable snapshots, one per event, each with the changes the event made and their inverse
 * (immer's `produceWithPatches` over the same `applyEvent` the live projection runs in place): what a time cursor
 * steps back and forth through, and what a live feed can send instead of whole views.
 */
import type { HotpatchEvent } from '@hotpatch/core';
import { applyPatches, enableMapSet, enablePatches, produceWithPatches, type Patch } from 'immer';
import { applyEvent } from './apply.js';
import { emptyProjectionState, type ProjectionState } from './records.js';

enableMapSet();
enablePatches();

export type { Patch } from 'immer';

type Applied = HotpatchEvent & { position?: number };

/**
 * One step: the events applied (one, or all those of one instant), the state after them (frozen, sharing what they
 * did not change), their changes and the inverse.
 */
export interface ProjectionStep {
  readonly events: readonly Applied[];
  readonly state: ProjectionState;
  /** What the event changed, as immer patches (paths through Maps use their keys). */
  readonly patches: readonly Patch[];
  /** The patches that take `state` back to the state before the step. */
  readonly inverse: readonly Patch[];
}

/** The state after `events`, and the patches; `state` is left as it was. */
export function stepProjection(state: ProjectionState, events: readonly Applied[]): ProjectionStep {
  const [next, patches, inverse] = produceWithPatches(ownSnapshot(state), (draft) => {
    for (const event of events) applyEvent(draft as ProjectionState, event);
  });
  return { events, state: next, patches, inverse };
}

/**
 * The steps through a log, from `start` (an empty projection by default): one per event, or with `per: 'instant'`
 * one per run of events at the same time — far cheaper on a large fleet, since a step copies each Map it changes
 * (immer's Maps are not persistent): see docs/performance.md.
 */
export function* projectionSteps(events: Iterable<Applied>, options: { per?: 'event' | 'instant'; start?: ProjectionState } = {}): Generator<ProjectionStep> {
  let state = options.start ?? emptyProjectionState();
  let run: Applied[] = [];
  const flush = () => {
    const step = stepProjection(state, run);
    state = step.state;
    run = [];
    return step;
  };
  for (const event of events) {
    if (run.length > 0 && (options.per !== 'instant' || event.time !== run[0]!.time)) yield flush();
    run.push(event);
  }
  if (run.length > 0) yield flush();
}

/** Applies patches (a step's, forward, or its inverse, back) to a snapshot, giving another snapshot. */
export function patchProjection(state: ProjectionState, patches: readonly Patch[]): ProjectionState {
  return applyPatches(ownSnapshot(state), patches as Patch[]);
}

/**
 * A state a step may share and freeze: a snapshot as given (steps freeze what they produce), any other (the live
 * projection's, which it goes on changing in place) copied first, so that neither changes the other.
 */
function ownSnapshot(state: ProjectionState): ProjectionState {
  return Object.isFrozen(state) ? state : structuredClone(state);
}
