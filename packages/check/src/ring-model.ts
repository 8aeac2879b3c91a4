/**
 * The ring lifecycle under the checker: every pause and resume by either party, from every reachable state. A
 * ring's reasons are part of its state, so two reasons per party are enough to show that a new reason replaces
 * the old one without adding a hold.
 */
import type { AnyStateMachine } from 'xstate';
import { compileEvolve, ringMachine, type RingEventBody, type RingState } from '@hotpatch/core';
import type { CheckModel } from './explore.js';
import type { StateInvariant, TransitionInvariant } from './invariants.js';

export const ringCheckEvents: readonly RingEventBody[] = [
  { type: 'RingPaused', data: { by: 'service', reason: 'incident' } },
  { type: 'RingPaused', data: { by: 'service', reason: 'second incident' } },
  { type: 'RingPaused', data: { by: 'tenant', reason: 'change freeze' } },
  { type: 'RingPaused', data: { by: 'tenant', reason: 'quarter end' } },
  { type: 'RingResumed', data: { by: 'service' } },
  { type: 'RingResumed', data: { by: 'tenant' } },
];

export const ringStateInvariants: ReadonlyArray<StateInvariant<RingState>> = [
  {
    name: 'pausedWhileHeld',
    description: 'A ring is paused exactly while some party holds a pause on it, and each party holds at most one.',
    check: ({ value, context }) => {
      if ((value === 'paused') !== context.holds.length > 0) return `${value} with holds ${JSON.stringify(context.holds)}`;
      return new Set(context.holds.map((h) => h.by)).size === context.holds.length ? undefined : `a party holds two pauses: ${JSON.stringify(context.holds)}`;
    },
  },
];

export const ringTransitionInvariants: ReadonlyArray<TransitionInvariant<RingState, RingEventBody>> = [
  {
    name: 'tenantPauseNotLiftedByService',
    description: "The service never lifts a tenant's pause of a ring.",
    check: (before, event, after) =>
      event.type !== 'RingPaused' && event.data.by === 'service' && before.context.holds.some((h) => h.by === 'tenant') && (!after.context.holds.some((h) => h.by === 'tenant') || after.value !== 'paused')
        ? 'the service lifted the tenant’s pause'
        : undefined,
  },
  {
    name: 'resumeLiftsOnlyOwnPause',
    description: 'A resume lifts the resuming party’s pause and nothing else; a pause never lifts one.',
    check: (before, event, after) => {
      const kept = before.context.holds.filter((h) => event.type === 'RingPaused' || h.by !== event.data.by).map((h) => h.by);
      const missing = kept.filter((by) => !after.context.holds.some((h) => h.by === by));
      return missing.length > 0 ? `${event.type} by the ${event.data.by} lifted the ${missing.join(' and ')}’s pause` : undefined;
    },
  },
];

export function ringCheckModel(machine: AnyStateMachine = ringMachine): CheckModel<RingState, RingEventBody> {
  return {
    lifecycle: compileEvolve(machine),
    events: ringCheckEvents,
    stateInvariants: ringStateInvariants,
    transitionInvariants: ringTransitionInvariants,
    context: { baselineOf: new Map() },
    // A ring recovers when it is open again.
    resting: new Set(['open']),
  };
}
