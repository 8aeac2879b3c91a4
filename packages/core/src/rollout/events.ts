/**
 * The rollout's events (stream `rollout/<id>`): a rollout takes one release through ordered rings, each with a
 * deferral, a disruption budget, a health gate and a deadline. Facts the machine decides on travel in the event
 * (ring sizes, times), so a rollout's timeline replays without the fleet.
 */
import { Type } from '../typebox.js';
import type { EventBodyOf, EventOf } from '../envelope.js';
import { refine } from '../schema-check.js';
import { StreamIdSchema } from '../stream-id.js';
import { expecting, isoTime, IsoTime, NonEmptyString, oneOf, StringList, Text, WholeNumber, type Shape } from '../schema.js';

/** Who pauses and resumes: the service (a gate, an operator) or the tenant. */
export const PausePartySchema = oneOf('service', 'tenant');

/** A ring's failure budget: a count, or a percentage of its devices (rounded down); `count` decides when both are given. */
const BUDGET_EXPECTED = '{"count": n} or {"percent": p} with 0 ≤ p ≤ 100';
const Percent = Type.Number({ minimum: 0, maximum: 100 });
/** The budget's variants, open (a logged plan) or closed (a policy). */
const budgetOf = (closed: boolean) =>
  expecting(
    BUDGET_EXPECTED,
    Type.Union([
      Type.Object({ count: WholeNumber, percent: Type.Optional(Percent) }, { additionalProperties: !closed }),
      Type.Object({ percent: Percent }, { not: { required: ['count'] }, additionalProperties: !closed }),
    ]),
  );
const OpenBudget = budgetOf(false);
const ClosedBudget = budgetOf(true);
const budget = (closed: boolean) => (closed ? ClosedBudget : OpenBudget) as typeof OpenBudget;

/** Days and hours a policy may name: up to ten years (a larger figure would overflow the dates it is added to). */
const Days = (description: string) => Type.Number({ minimum: 0, maximum: 3650, description });
const Hours = (description: string) => Type.Number({ minimum: 0, maximum: 87_600, description });

/**
 * One ring of a rollout: when it may start, what it may spend, what it must prove and by when. Closed (unknown
 * fields refused) in a policy, where one is a typo; open in a logged plan, whose extra fields are kept.
 */
const ringPolicy = (closed: boolean) =>
  Type.Object(
    {
      // A policy's ring names its stream (`ring/<name>`): the id rule. A logged plan's is read as it was written.
      name: closed ? StreamIdSchema : NonEmptyString,
      deferralDays: Days('Days after the release before the ring may start.'),
      budget: budget(closed),
      gate: Type.Object(
        {
          minVerifiedShare: Type.Number({ minimum: 0, maximum: 1, description: "Share of the ring's devices (not set aside) that must be verified." }),
          maxFailureRate: Type.Number({ minimum: 0, maximum: 1, description: 'Highest failure rate allowed.' }),
          minSoakHours: Hours('Hours the ring must soak after it started before the gate can pass.'),
          maxSetAsideShare: Type.Optional(
            Type.Number({ minimum: 0, maximum: 1, description: "Most of the ring's devices that may be set aside (agents gone silent, devices not instructable) for the gate to pass; absent: any (a ring whose devices all went silent passes on those that reported)." }),
          ),
        },
        { additionalProperties: !closed },
      ),
      deadlineDays: Days('Days after the ring started by which its gate must pass, or the rollout halts.'),
    },
    { additionalProperties: !closed },
  );
export const RingPolicySchema = ringPolicy(false);
export type RingPolicy = Shape<typeof RingPolicySchema>;

/** A rollout's rings, in order: at least one, each name once (`closed`: as a policy gives them). */
const rings = (closed: boolean) =>
  expecting(
    'a non-empty array of rings',
    refine(Type.Array(ringPolicy(closed), { minItems: 1, description: 'Rings in order; each name once.' }), (rings) => {
      const names = new Set<string>();
      for (let i = 0; i < rings.length; i++) {
        const { name } = rings[i]!;
        if (names.has(name)) return { path: `[${i}].name`, message: `${name} appears twice` };
        names.add(name);
      }
      return undefined;
    }),
  );
export const RingsSchema = rings(false);
export const PolicyRingsSchema = rings(true);

export type PauseParty = Shape<typeof PausePartySchema>;
const Action = oneOf('hotpatch', 'reboot');
export type InstructionAction = Shape<typeof Action>;
const Failure = oneOf('apply-failed', 'health-failed', 'timeout', 'rollback-failed');
export type FailureReason = Shape<typeof Failure>;

/** The data of each rollout event type: the one definition of its fields (docs/events.md says what they mean). */
export const ROLLOUT_EVENT_DATA = {
  RolloutPlanned: Type.Object({
    release: NonEmptyString,
    releaseKind: oneOf('hotpatch', 'baseline'),
    releasedAt: IsoTime,
    liveRevert: Type.Boolean(),
    outOfBand: Type.Boolean(),
    rings: RingsSchema,
    // The rest of the release, so that the rollout can be planned again from the log alone (a what-if replay);
    // absent from logs written before they were recorded.
    baseline: Type.Optional(Type.String({ minLength: 1, description: "A hotpatch's baseline it applies on; a baseline's own id." })),
    requires: Type.Optional(Type.Array(NonEmptyString, { description: 'The hotpatches a hotpatch requires.' })),
    rebootReason: Type.Optional(Type.String({ minLength: 1, description: "Why a baseline's restart is needed." })),
    cumulativeUpdate: Type.Optional(
      Type.String({ minLength: 1, description: 'For a hotpatch: the cumulative update with the same fix, installed with a restart by the devices that cannot take the hotpatch (default LCU-<release>).' }),
    ),
    deferralsFrom: Type.Optional(isoTime("An out-of-band release's Patch Tuesday before it: the rings' deferrals count from it.")),
  }),
  RingStarted: Type.Object({ ring: NonEmptyString, at: IsoTime, devices: WholeNumber }),
  DeviceInstructed: Type.Object({ ring: NonEmptyString, device: NonEmptyString, action: Action }),
  DeviceSucceeded: Type.Object({ ring: NonEmptyString, device: NonEmptyString }),
  DeviceFailed: Type.Object({ ring: NonEmptyString, device: NonEmptyString, reason: Failure }),
  /** `instructed`: whether the device had been instructed (and so was in flight), or went silent before that. */
  DeviceSetAside: Type.Object({ ring: NonEmptyString, device: NonEmptyString, reason: Text, instructed: Type.Boolean() }),
  GatePassed: Type.Object({ ring: NonEmptyString, at: IsoTime }),
  RolloutPaused: Type.Object({ by: PausePartySchema, reason: Text }),
  RolloutResumed: Type.Object({ by: PausePartySchema }),
  RolloutHalted: Type.Object({ reason: NonEmptyString, at: IsoTime }),
};

export type RolloutEventData = { readonly [T in keyof typeof ROLLOUT_EVENT_DATA]: Shape<(typeof ROLLOUT_EVENT_DATA)[T]> };

export type RolloutEventType = keyof RolloutEventData;

export const ROLLOUT_EVENT_TYPES = [
  'RolloutPlanned',
  'RingStarted',
  'DeviceInstructed',
  'DeviceSucceeded',
  'DeviceFailed',
  'DeviceSetAside',
  'GatePassed',
  'RolloutPaused',
  'RolloutResumed',
  'RolloutHalted',
] as const satisfies readonly RolloutEventType[];

export type RolloutEventBody = EventBodyOf<RolloutEventData>;

export type RolloutEvent = EventOf<RolloutEventData>;
