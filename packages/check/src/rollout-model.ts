/**
 * The rollout lifecycle under the checker: a rollout of one hotpatch over three devices (one in the pilot ring,
 * two in the broad ring), with every report an agent can send, the gate and ring starts at times that do and do
 * not satisfy the policy, pauses and resumes by both parties, and halts. Ring counters are bounded by the ring's
 * size, so the state space is finite without abstraction.
 */
import { addDays, compileEvolve, rolloutMachine, type RingPolicy, type RolloutEventBody, type RolloutState } from '@hotpatch/core';
import type { AnyStateMachine } from 'xstate';
import type { CheckModel } from './explore.js';
import type { StateInvariant, TransitionInvariant } from './invariants.js';

export interface RolloutScenario {
  readonly name: string;
  readonly releasedAt: string;
  /** An out-of-band release's Patch Tuesday before it: the rings' deferrals count from it (expedited). */
  readonly deferralsFrom?: string;
  readonly rings: ReadonlyArray<RingPolicy & { readonly devices: readonly string[] }>;
}

export const DEFAULT_ROLLOUT_SCENARIO: RolloutScenario = {
  name: 'three-devices',
  releasedAt: '2026-02-10T17:00:00.000Z',
  rings: [
    { name: 'pilot', devices: ['p1'], deferralDays: 0, budget: { count: 0 }, gate: { minVerifiedShare: 1, maxFailureRate: 0, minSoakHours: 24 }, deadlineDays: 7 },
    { name: 'broad', devices: ['b1', 'b2'], deferralDays: 7, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 24 }, deadlineDays: 14 },
  ],
};

const HOUR = 3_600_000;

/** When a ring's deferral lets it start, stated apart from the machine: its deferral after the date deferrals count from, never before the release. */
function ringOpening(releasedAt: string, deferralsFrom: string | undefined, deferralDays: number): string {
  const opens = addDays(deferralsFrom ?? releasedAt, deferralDays);
  return opens > releasedAt ? opens : releasedAt;
}
const later = (iso: string, hours: number) => new Date(Date.parse(iso) + hours * HOUR).toISOString();

function rolloutScenarioEvents(s: RolloutScenario): RolloutEventBody[] {
  const events: RolloutEventBody[] = [
    {
      type: 'RolloutPlanned',
      data: {
        release: 'HP-2026-02',
        releaseKind: 'hotpatch',
        releasedAt: s.releasedAt,
        liveRevert: true,
        outOfBand: s.deferralsFrom !== undefined,
        rings: s.rings.map(({ devices: _d, ...policy }) => policy),
        ...(s.deferralsFrom !== undefined ? { deferralsFrom: s.deferralsFrom } : {}),
      },
    },
  ];
  for (const ring of s.rings) {
    const opens = ringOpening(s.releasedAt, s.deferralsFrom, ring.deferralDays);
    // A start on the deferral date, and one an hour too early; a gate after the soak time, and one too soon.
    events.push({ type: 'RingStarted', data: { ring: ring.name, at: opens, devices: ring.devices.length } });
    events.push({ type: 'RingStarted', data: { ring: ring.name, at: later(opens, -1), devices: ring.devices.length } });
    events.push({ type: 'GatePassed', data: { ring: ring.name, at: later(opens, ring.gate.minSoakHours) } });
    events.push({ type: 'GatePassed', data: { ring: ring.name, at: later(opens, ring.gate.minSoakHours - 1) } });
    for (const device of ring.devices) {
      events.push(
        { type: 'DeviceInstructed', data: { ring: ring.name, device, action: 'hotpatch' } },
        { type: 'DeviceSucceeded', data: { ring: ring.name, device } },
        { type: 'DeviceFailed', data: { ring: ring.name, device, reason: 'health-failed' } },
        { type: 'DeviceSetAside', data: { ring: ring.name, device, reason: 'agent silent', instructed: true } },
        { type: 'DeviceSetAside', data: { ring: ring.name, device, reason: 'agent silent before instruction', instructed: false } },
      );
    }
  }
  for (const by of ['service', 'tenant'] as const) {
    events.push({ type: 'RolloutPaused', data: { by, reason: `paused by the ${by}` } }, { type: 'RolloutResumed', data: { by } });
  }
  events.push({ type: 'RolloutHalted', data: { reason: 'deadline passed', at: addDays(s.releasedAt, 30) } });
  return events;
}

export const rolloutStateInvariants: ReadonlyArray<StateInvariant<RolloutState>> = [
  {
    name: 'failuresWithinBudget',
    description: "A ring's failures never exceed its disruption budget, plus — once halted — the devices that were still in flight when it halted.",
    check: ({ value, context }) => {
      const at = value === 'halted' ? context.atHalt : null;
      for (let i = 0; i < context.rings.length; i++) {
        const ring = context.rings[i]!;
        // The failure that halted the ring is the one past its budget.
        const allowed = at !== null && at.ring === i ? Math.max(ring.budget, at.failed) + at.inFlight : ring.budget;
        if (ring.failed > allowed || (at !== null && at.ring === i && at.failed > ring.budget + 1)) {
          return `${context.policies[i]!.name}: ${ring.failed} failures, budget ${ring.budget}${at !== null && at.ring === i ? ` (${at.failed} at the halt + ${at.inFlight} in flight then)` : ''}`;
        }
      }
      return undefined;
    },
  },
  {
    name: 'haltAccountsForItsRing',
    description:
      "A halted rollout's ring: each outcome recorded after the halt comes from a device in flight at the halt, and the devices of that ring still without an outcome are the others (what status and history call withdrawn).",
    check: ({ value, context }) => {
      const at = value === 'halted' ? context.atHalt : null;
      if (at === null) return undefined;
      const ring = context.rings[at.ring]!;
      const since = [ring.succeeded - at.succeeded, ring.failed - at.failed, ring.setAside - at.setAside];
      if (since.some((n) => n < 0) || since.reduce((a, b) => a + b, 0) + ring.inFlight !== at.inFlight) {
        return `${context.policies[at.ring]!.name}: at the halt ${JSON.stringify(at)}, now ${JSON.stringify(ring)}`;
      }
      return undefined;
    },
  },
  {
    name: 'ringCountsWithinSize',
    description: "A ring's devices in flight, succeeded, failed and set aside never add up to more than the ring.",
    check: ({ context }) => {
      for (let i = 0; i < context.rings.length; i++) {
        const r = context.rings[i]!;
        if (r.inFlight < 0 || r.inFlight + r.succeeded + r.failed + r.setAside > r.size) return `${context.policies[i]!.name}: counts ${JSON.stringify(r)} exceed its ${r.size} devices`;
      }
      return undefined;
    },
  },
];

export const rolloutTransitionInvariants: ReadonlyArray<TransitionInvariant<RolloutState, RolloutEventBody>> = [
  {
    name: 'noRingBeforeGate',
    description: "No ring starts before the previous ring's gate passed.",
    check: (before, event) => {
      if (event.type !== 'RingStarted') return undefined;
      const i = before.context.policies.findIndex((p) => p.name === event.data.ring);
      return i > 0 && !before.context.rings[i - 1]!.gatePassed ? `${event.data.ring} started before ${before.context.policies[i - 1]!.name}'s gate passed` : undefined;
    },
  },
  {
    name: 'noRingBeforeDeferral',
    description: "No ring starts before its deferral has elapsed (for an out-of-band release, counted from the Patch Tuesday before it), nor before the release.",
    check: (before, event) => {
      if (event.type !== 'RingStarted' || before.context.releasedAt === null) return undefined;
      const policy = before.context.policies.find((p) => p.name === event.data.ring);
      if (policy === undefined) return undefined;
      const opens = ringOpening(before.context.releasedAt, before.context.deferralsFrom ?? undefined, policy.deferralDays);
      return event.data.at < opens ? `${event.data.ring} started at ${event.data.at}, before its deferral ends at ${opens}` : undefined;
    },
  },
  {
    name: 'pausedOrHaltedInstructsNothing',
    description: 'A paused or halted rollout (or one between rings) instructs no device.',
    check: (before, event) => (event.type === 'DeviceInstructed' && before.value !== 'rolling' ? `${event.data.device} instructed while ${before.value}` : undefined),
  },
  {
    name: 'tenantPauseNotLiftedByService',
    description: "The service never lifts a tenant's pause.",
    check: (before, event, after) =>
      event.type === 'RolloutResumed' && event.data.by === 'service' && before.context.pausedBy.includes('tenant') && (!after.context.pausedBy.includes('tenant') || after.value !== 'paused')
        ? 'the service lifted the tenant’s pause'
        : undefined,
  },
];

export function rolloutCheckModel(scenario: RolloutScenario = DEFAULT_ROLLOUT_SCENARIO, machine: AnyStateMachine = rolloutMachine): CheckModel<RolloutState, RolloutEventBody> {
  return {
    lifecycle: compileEvolve(machine),
    events: rolloutScenarioEvents(scenario),
    stateInvariants: rolloutStateInvariants,
    transitionInvariants: rolloutTransitionInvariants,
    context: { baselineOf: new Map() },
    // A rollout "recovers" when it is no longer stuck mid-ring: it completes, halts, or waits between rings.
    resting: new Set(['completed', 'halted', 'betweenRings']),
    terminal: new Set(['halted']),
  };
}
