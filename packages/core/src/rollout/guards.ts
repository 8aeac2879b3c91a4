/** The rollout's rules, one named guard each. */
import { allOf, type NamedConjunction } from '../rules.js';
import { hoursBetween, ringOpensAt, type RolloutContext } from './context.js';
import type { RolloutEventBody, RolloutEventData } from './events.js';

export interface RolloutGuardArgs<E extends RolloutEventBody = RolloutEventBody> {
  readonly context: RolloutContext;
  readonly event: E;
}
type Guard<E extends RolloutEventBody = RolloutEventBody> = (args: RolloutGuardArgs<E>) => boolean;
type Of<T extends keyof RolloutEventData> = Extract<RolloutEventBody, { type: T }>;
type AboutRing = Extract<RolloutEventBody, { data: { ring: string } }>;

const ringIndex = (context: RolloutContext, ring: string) => context.policies.findIndex((p) => p.name === ring);

/** The ring is the next one, and the ring before it (if any) passed its gate. */
export const isNextRing: Guard<Of<'RingStarted'>> = ({ context, event }) =>
  context.policies[context.current + 1]?.name === event.data.ring && (context.current < 0 || context.rings[context.current]!.gatePassed);
/** The ring's deferral has elapsed (after the release, or for an out-of-band one after the regular release before it). */
export const deferralElapsed: Guard<Of<'RingStarted'>> = ({ context, event }) => {
  const opens = ringOpensAt(context, context.current + 1);
  return opens !== null && event.data.at >= opens;
};
export const canStartRing = allOf<RolloutGuardArgs<Of<'RingStarted'>>>({ isNextRing, deferralElapsed });

/** The instruction is for the ring in progress, and the ring has a device not yet instructed. */
export const instructsCurrentRing: Guard<Of<'DeviceInstructed'>> = ({ context, event }) => {
  const ring = context.rings[context.current];
  return (
    context.policies[context.current]?.name === event.data.ring &&
    ring !== undefined &&
    ring.startedAt !== null &&
    ring.inFlight + ring.succeeded + ring.failed + ring.setAside < ring.size
  );
};

/** A report for a ring that has a device in flight. */
export const ringHasDeviceInFlight: Guard<AboutRing> = ({ context, event }) => {
  const i = ringIndex(context, event.data.ring);
  return i >= 0 && (context.rings[i]?.inFlight ?? 0) > 0;
};

/** A device set aside while in flight: its ring has a device in flight. */
export const setAsideInFlight: Guard<Of<'DeviceSetAside'>> = (args) => args.event.data.instructed && ringHasDeviceInFlight(args);
/** A device of the ring in progress set aside before it was instructed: the ring still has a device not accounted for. */
export const setAsideBeforeInstruction: Guard<Of<'DeviceSetAside'>> = ({ context, event }) => {
  const ring = context.rings[context.current];
  return (
    !event.data.instructed &&
    context.policies[context.current]?.name === event.data.ring &&
    ring !== undefined &&
    ring.startedAt !== null &&
    ring.inFlight + ring.succeeded + ring.failed + ring.setAside < ring.size
  );
};

/** This failure, in the ring in progress, takes it past its disruption budget. */
export const failurePastBudget: Guard<Of<'DeviceFailed'>> = ({ context, event }) => {
  const i = ringIndex(context, event.data.ring);
  const ring = context.rings[i];
  return i === context.current && ring !== undefined && ring.inFlight > 0 && ring.failed + 1 > ring.budget;
};

/**
 * Every device of the ring has reported (or been set aside), enough are verified, few enough failed, no more set aside
 * than the gate allows (when it says), and it has soaked long enough.
 */
export const gateMet: Guard<Of<'GatePassed'>> = ({ context, event }) => {
  const policy = context.policies[context.current];
  const ring = context.rings[context.current];
  if (!policy || !ring || policy.name !== event.data.ring || ring.startedAt === null || ring.inFlight > 0) return false;
  const counted = Math.max(1, ring.size - ring.setAside);
  const reported = ring.succeeded + ring.failed + ring.setAside;
  return (
    reported === ring.size &&
    ring.succeeded / counted >= policy.gate.minVerifiedShare &&
    ring.failed / counted <= policy.gate.maxFailureRate &&
    (policy.gate.maxSetAsideShare === undefined || ring.setAside / Math.max(1, ring.size) <= policy.gate.maxSetAsideShare) &&
    hoursBetween(ring.startedAt, event.data.at) >= policy.gate.minSoakHours
  );
};
export const isLastRing: Guard = ({ context }) => context.current === context.policies.length - 1;
export const gateMetOnLastRing = allOf<RolloutGuardArgs<Of<'GatePassed'>>>({ gateMet, isLastRing: isLastRing as Guard<Of<'GatePassed'>> });

/** The party resuming is one that paused. The service cannot lift the tenant's pause. */
export const pausedByThisParty: Guard<Of<'RolloutResumed'>> = ({ context, event }) => context.pausedBy.includes(event.data.by);
const liftsLastPause: Guard<Of<'RolloutResumed'>> = ({ context, event }) => context.pausedBy.length === 1 && context.pausedBy[0] === event.data.by;
const resumesRolling: Guard<Of<'RolloutResumed'>> = ({ context }) => context.resumeTo === 'rolling';
export const resumesIntoRolling: NamedConjunction<RolloutGuardArgs<Of<'RolloutResumed'>>> = allOf({ pausedByThisParty, liftsLastPause, resumesRolling });
export const resumesBetweenRings: NamedConjunction<RolloutGuardArgs<Of<'RolloutResumed'>>> = allOf({ pausedByThisParty, liftsLastPause });
