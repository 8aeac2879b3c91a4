/** The records a fleet projection keeps, and the state that holds them. */
import type { DeviceState, RingState, RolloutEventData, RolloutState } from '@hotpatch/core';
import type { HealedRecord } from './healed.js';

/** The apply failures of a device that has had none (a map per device would cost about 600 bytes each). */
export const NO_APPLY_FAILURES: ReadonlyMap<string, string> = new Map();

export interface DeviceRecord {
  readonly id: string;
  ring: string;
  state: DeviceState;
  version: number;
  /** Time of the device's last event: when its agent was last heard of. */
  lastEventAt: string;
  /** When the patch in flight started applying (null when not applying). */
  applyingSince: string | null;
  /** The release time of the newest fix the device runs (baseline or hotpatch), of the releases known; null when none. */
  protectedUpTo: string | null;
  /** The last outcome of each patch on this device. */
  readonly outcomes: Map<string, 'verified' | 'apply-failed' | 'health-failed' | 'rolled-back' | 'rollback-failed'>;
  /** When the last baseline was installed (a reboot completed). */
  lastBaselineAt: string | null;
  /** The baseline the last installed one replaced (where an uninstall takes the device back to). */
  previousBaseline: string | null;
  /** Why the last apply of each patch failed (most devices never fail one: they share one empty map). */
  applyFailures: ReadonlyMap<string, string>;
}

/** A device a rollout instructed: its ring, the action and when. */
export interface Instruction {
  readonly ring: string;
  readonly action: 'hotpatch' | 'reboot';
  readonly at: string;
}
export type RolloutOutcome = 'succeeded' | 'failed' | 'setAside';

export interface RolloutRecord {
  readonly id: string;
  state: RolloutState;
  version: number;
  /** Devices instructed, by id: their ring, the action and when. */
  readonly instructed: Map<string, Instruction>;
  /** Devices with an outcome recorded in the rollout. */
  readonly outcomes: Map<string, RolloutOutcome>;
  /** Devices instructed and without an outcome yet: the ones a tick has to look at. */
  readonly pending: Set<string>;
  plannedAt: string;
  /** What its RolloutPlanned recorded (the release, its rings): enough for any instance to carry the rollout on. */
  plan: RolloutEventData['RolloutPlanned'] | null;
  /** Its pauses, oldest first: when each began and ended (null while it lasts). */
  readonly pauses: Array<[from: string, to: string | null]>;
}

/** A rollout record as its update writes it: the projection's (Maps and Sets), or an orchestrator decision's draft. */
export interface RolloutRecordUpdate {
  state: RolloutState;
  version: number;
  plan: RolloutEventData['RolloutPlanned'] | null;
  readonly instructed: { set(device: string, instruction: Instruction): unknown };
  readonly outcomes: { has(device: string): boolean; set(device: string, outcome: RolloutOutcome): unknown };
  readonly pending: { add(device: string): unknown; delete(device: string): unknown };
  readonly pauses: Array<[from: string, to: string | null]>;
}

/** A ring's pauses (stream `ring/<name>`), whatever the release: a paused ring receives nothing new. */
export interface RingPauseRecord {
  readonly ring: string;
  state: RingState;
  version: number;
  /** Its pauses, oldest first: when each began and ended (null while it lasts). */
  readonly pauses: Array<[from: string, to: string | null]>;
}

export interface ReleaseRecord {
  readonly id: string;
  readonly kind: 'baseline' | 'hotpatch';
  readonly releasedAt: string;
  /**
   * A hotpatch's cumulative update (the same fix, installed with a restart by the devices that cannot take the
   * hotpatch): a device running it is protected up to this release. Absent when the log does not name one.
   */
  readonly cumulativeUpdate?: string;
  /**
   * The devices protected against it now, each with when its protection began: protected while, and only while,
   * what it runs (its baseline, a cumulative update, its active hotpatches) includes a fix released at or after
   * this one. A device that loses it (a rollback, a restart back to an older baseline, retirement) leaves the map;
   * one that regains it counts from then (see docs/domain.md, "Exposure"). A device already running a newer fix
   * when the release came out has a time before the release: it was never exposed (0 days).
   */
  readonly protectedSince: Map<string, string>;
}

/**
 * The projection's data, plain Maps, Sets and objects: updated in place by `applyEvent` (the orchestrator's live
 * projection), or through immer's `produceWithPatches` for immutable snapshots and per-event patches (`timeline.ts`).
 */
export interface ProjectionState {
  readonly devices: Map<string, DeviceRecord>;
  readonly rollouts: Map<string, RolloutRecord>;
  readonly releases: Map<string, ReleaseRecord>;
  /** Hotpatches' cumulative updates, by the name a device reports installing: the id of the release each brings. */
  readonly cumulativeUpdates: Map<string, string>;
  /** Each ring's devices (by enrolment). */
  readonly ringMembers: Map<string, Set<string>>;
  /** The rings that were ever paused, by name (a ring never paused has no record: it is open). */
  readonly ringPauses: Map<string, RingPauseRecord>;
  /** What healings carried on (units of work cut short between their appends), by rollout and device (`healedKey`). */
  readonly healed: Map<string, HealedRecord>;
  /** Global position of the last event applied. */
  position: number;
  /** The latest event time applied ('' before any): the moment the projection stands for. */
  latestTime: string;
}

export function emptyProjectionState(): ProjectionState {
  return { devices: new Map(), rollouts: new Map(), releases: new Map(), cumulativeUpdates: new Map(), ringMembers: new Map(), ringPauses: new Map(), healed: new Map(), position: 0, latestTime: '' };
}

/** Empties a state in place (its Maps stay the same objects: whoever holds them sees it). */
export function clearProjectionState(state: ProjectionState): void {
  state.devices.clear();
  state.rollouts.clear();
  state.releases.clear();
  state.cumulativeUpdates.clear();
  state.ringMembers.clear();
  state.ringPauses.clear();
  state.healed.clear();
  state.position = 0;
  state.latestTime = '';
}
