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

/** One event's step: the state after it (frozen, sharing what it did not change), its changes and their inverse. */
export interface ProjectionStep {
  readonly event: HotpatchEvent;
  readonly state: ProjectionState;
  /** What the event changed, as immer patches (paths through Maps use their keys). */
  readonly patches: readonly Patch[];
  /** The patches that take `state` back to the state before the event. */
  readonly inverse: readonly Patch[];
}

/** The state after `event`, and its patches; `state` is left as it was. */
export function stepProjection(state: ProjectionState, event: HotpatchEvent & { position?: number }): ProjectionStep {
  const [next, patches, inverse] = produceWithPatches(state, (draft) => {
    applyEvent(draft as ProjectionState, event);
  });
  return { event, state: next, patches, inverse };
}

/** Each event's step in turn, from `start` (an empty projection by default). */
export function* projectionSteps(events: Iterable<HotpatchEvent & { position?: number }>, start: ProjectionState = emptyProjectionState()): Generator<ProjectionStep> {
  let state = start;
  for (const event of events) {
    const step = stepProjection(state, event);
    state = step.state;
    yield step;
  }
}

/** Applies patches (a step's, forward, or its inverse, back) to a snapshot, giving another snapshot. */
export function patchProjection(state: ProjectionState, patches: readonly Patch[]): ProjectionState {
  return applyPatches(state, patches as Patch[]);
}
