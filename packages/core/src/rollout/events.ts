/**
 * The rollout's events (stream `rollout/<id>`): a rollout takes one release through ordered rings, each with a
 * deferral, a disruption budget, a health gate and a deadline. Facts the machine decides on travel in the event
 * (ring sizes, times), so a rollout's timeline replays without the fleet.
 */
import type { EventBodyOf, EventOf } from '../envelope.js';
import type { ReleaseKind } from '../catalog.js';

export interface RingPolicy {
  readonly name: string;
  /** Days after the release before the ring may start. */
  readonly deferralDays: number;
  /** How many failures the ring tolerates: a count, or a percentage of its devices (rounded down). */
  readonly budget: { readonly count: number } | { readonly percent: number };
  readonly gate: {
    /** Share of the ring's devices (not set aside) that must be verified, 0–1. */
    readonly minVerifiedShare: number;
    /** Highest failure rate allowed, 0–1. */
    readonly maxFailureRate: number;
    /** Hours the ring must soak after it started before the gate can pass. */
    readonly minSoakHours: number;
  };
  /** Days after the ring started by which its gate must pass, or the rollout halts. */
  readonly deadlineDays: number;
}

export type PauseParty = 'service' | 'tenant';
export type InstructionAction = 'hotpatch' | 'reboot';
export type FailureReason = 'apply-failed' | 'health-failed' | 'timeout' | 'rollback-failed';

export interface RolloutEventData {
  RolloutPlanned: {
    readonly release: string;
    readonly releaseKind: ReleaseKind;
    /** ISO time the release shipped. */
    readonly releasedAt: string;
    readonly liveRevert: boolean;
    readonly outOfBand: boolean;
    readonly rings: readonly RingPolicy[];
    /**
     * The rest of the release, so that the rollout can be planned again from the log alone (a what-if replay):
     * for a hotpatch the baseline it applies on and the hotpatches it requires; for a baseline why its restart is
     * needed. Absent from logs written before they were recorded.
     */
    readonly baseline?: string;
    readonly requires?: readonly string[];
    readonly rebootReason?: string;
    /**
     * For a hotpatch: the cumulative update, installed with a restart, that carries the same fix, for the devices
     * that cannot take the hotpatch (ineligible, or not on its baseline). Absent from logs written before it was
     * recorded (their devices were restarted onto the hotpatch's baseline instead).
     */
    readonly cumulativeUpdate?: string;
    /**
     * When the rings' deferrals count from, when not from `releasedAt`: for an out-of-band release, the regular
     * release it ships after, so that a ring whose deferral has passed since then gets it at once (expedited) and
     * the others on their usual date. Absent: from `releasedAt`.
     */
    readonly deferralsFrom?: string;
  };
  RingStarted: { readonly ring: string; readonly at: string; readonly devices: number };
  DeviceInstructed: { readonly ring: string; readonly device: string; readonly action: InstructionAction };
  DeviceSucceeded: { readonly ring: string; readonly device: string };
  DeviceFailed: { readonly ring: string; readonly device: string; readonly reason: FailureReason };
  /** `instructed`: whether the device had been instructed (and so was in flight), or went silent before that. */
  DeviceSetAside: { readonly ring: string; readonly device: string; readonly reason: string; readonly instructed: boolean };
  GatePassed: { readonly ring: string; readonly at: string };
  RolloutPaused: { readonly by: PauseParty; readonly reason: string };
  RolloutResumed: { readonly by: PauseParty };
  RolloutHalted: { readonly reason: string; readonly at: string };
}

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
