/** The rollout's context updates: pure functions of (context, event). */
import { resolveBudget, type RingProgress, type RolloutContext } from './context.js';
import type { RolloutEventBody, RolloutEventData } from './events.js';

type Of<T extends keyof RolloutEventData> = Extract<RolloutEventBody, { type: T }>;
export interface RolloutUpdateArgs<E extends RolloutEventBody = RolloutEventBody> {
  readonly context: RolloutContext;
  readonly event: E;
}
type Update<E extends RolloutEventBody> = (args: RolloutUpdateArgs<E>) => Partial<RolloutContext>;
type AboutRing = Extract<RolloutEventBody, { data: { ring: string } }>;

const emptyRing: RingProgress = { size: 0, budget: 0, startedAt: null, inFlight: 0, succeeded: 0, failed: 0, setAside: 0, gatePassed: false };

function updateRing(context: RolloutContext, name: string, change: (ring: RingProgress) => Partial<RingProgress>): Partial<RolloutContext> {
  const i = context.policies.findIndex((p) => p.name === name);
  const rings = context.rings.slice();
  rings[i] = { ...rings[i]!, ...change(rings[i]!) };
  return { rings };
}

export const plan: Update<Of<'RolloutPlanned'>> = ({ event: { data } }) => ({
  release: data.release,
  releaseKind: data.releaseKind,
  releasedAt: data.releasedAt,
  deferralsFrom: data.deferralsFrom ?? null,
  liveRevert: data.liveRevert,
  outOfBand: data.outOfBand,
  policies: data.rings,
  rings: data.rings.map(() => emptyRing),
});

export const startRing: Update<Of<'RingStarted'>> = ({ context, event: { data } }) => {
  const current = context.current + 1;
  const rings = context.rings.slice();
  rings[current] = { ...emptyRing, size: data.devices, budget: resolveBudget(context.policies[current]!, data.devices), startedAt: data.at };
  return { current, rings };
};

export const instruct: Update<Of<'DeviceInstructed'>> = ({ context, event }) => updateRing(context, event.data.ring, (r) => ({ inFlight: r.inFlight + 1 }));
export const succeed: Update<Of<'DeviceSucceeded'>> = ({ context, event }) => updateRing(context, event.data.ring, (r) => ({ inFlight: r.inFlight - 1, succeeded: r.succeeded + 1 }));
export const fail: Update<Of<'DeviceFailed'>> = ({ context, event }) => updateRing(context, event.data.ring, (r) => ({ inFlight: r.inFlight - 1, failed: r.failed + 1 }));
export const setAside: Update<Of<'DeviceSetAside'>> = ({ context, event }) => updateRing(context, event.data.ring, (r) => ({ inFlight: r.inFlight - 1, setAside: r.setAside + 1 }));
export const setAsideUninstructed: Update<Of<'DeviceSetAside'>> = ({ context, event }) => updateRing(context, event.data.ring, (r) => ({ setAside: r.setAside + 1 }));
export const passGate: Update<Of<'GatePassed'>> = ({ context, event }) => updateRing(context, event.data.ring, () => ({ gatePassed: true }));

/** What a halt records of the ring it halted in (the current one): its counts right after the halting event. */
const haltCounts = (context: RolloutContext): Partial<RolloutContext> => {
  const ring = context.rings[context.current];
  return { atHalt: ring === undefined ? null : { ring: context.current, succeeded: ring.succeeded, failed: ring.failed, setAside: ring.setAside, inFlight: ring.inFlight }, pausedBy: [], resumeTo: null };
};

/** Halting on the budget, after the failure is counted: the devices still in flight may yet fail. */
export const haltOnBudget: Update<Of<'DeviceFailed'>> = ({ context, event }) => {
  const ring = context.rings.find((_, i) => context.policies[i]!.name === event.data.ring)!;
  return { haltReason: `${event.data.ring}: failures past the disruption budget (${ring.failed} > ${ring.budget})`, ...haltCounts(context) };
};
export const halt: Update<Of<'RolloutHalted'>> = ({ context, event }) => ({ haltReason: event.data.reason, ...haltCounts(context) });

const addParty = (context: RolloutContext, by: 'service' | 'tenant') => (context.pausedBy.includes(by) ? context.pausedBy : [...context.pausedBy, by].sort());
export const pauseRolling: Update<Of<'RolloutPaused'>> = ({ context, event }) => ({ pausedBy: addParty(context, event.data.by), resumeTo: 'rolling' });
export const pauseBetweenRings: Update<Of<'RolloutPaused'>> = ({ context, event }) => ({ pausedBy: addParty(context, event.data.by), resumeTo: 'betweenRings' });
export const pauseAgain: Update<Of<'RolloutPaused'>> = ({ context, event }) => ({ pausedBy: addParty(context, event.data.by) });
/** Lifts only the resuming party's pause. */
export const resume: Update<Of<'RolloutResumed'>> = ({ context, event }) => {
  const pausedBy = context.pausedBy.filter((p) => p !== event.data.by);
  return { pausedBy, resumeTo: pausedBy.length ? context.resumeTo : null };
};

export type { AboutRing };
