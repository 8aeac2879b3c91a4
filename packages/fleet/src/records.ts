/** A device's and a rollout's records as the log tells them, and what each event changes in them. */
import { deviceLifecycle, initialDeviceState, rolloutLifecycle, type DeviceState, type HotpatchEvent, type RolloutEventData, type RolloutState } from '@hotpatch/core';

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

/** A device's record before its first event. */
export function newDeviceRecord(id: string, time: string): DeviceRecord {
  return { id, ring: '', state: initialDeviceState, version: 0, lastEventAt: time, applyingSince: null, protectedUpTo: null, outcomes: new Map(), lastBaselineAt: null, previousBaseline: null, applyFailures: NO_APPLY_FAILURES };
}

/**
 * What a device's event changes in its own record (all but its protection, which depends on the releases known):
 * the projection's records, and the copies an orchestrator's decision works on, alike.
 */
export function evolveDeviceRecord(record: DeviceRecord, event: HotpatchEvent, time: string, state?: DeviceState): void {
  const baselineBefore = record.state.context.baseline;
  // `state`: the state after the event, when the caller knows it already (a command's decision).
  record.state = state ?? (deviceLifecycle.evolve(record.state, event as never) as DeviceState);
  record.version = event.version;
  record.lastEventAt = time;
  switch (event.type) {
    case 'DeviceEnrolled':
      record.ring = event.data.ring;
      break;
    case 'PatchVerified':
      record.outcomes.set(event.data.patch, 'verified');
      break;
    case 'PatchApplyFailed':
      record.outcomes.set(event.data.patch, 'apply-failed');
      record.applyFailures = new Map(record.applyFailures).set(event.data.patch, event.data.reason);
      break;
    case 'HealthCheckFailed':
      record.outcomes.set(event.data.patch, 'health-failed');
      break;
    case 'PatchRolledBack':
      // After the device's own failure, the failure stays its outcome; otherwise the rollback was ordered.
      if (record.outcomes.get(event.data.patch) === 'verified' || !record.outcomes.has(event.data.patch)) record.outcomes.set(event.data.patch, 'rolled-back');
      break;
    case 'RollbackFailed':
      record.outcomes.set(event.data.patch, 'rollback-failed');
      break;
    case 'BaselineInstalled':
      record.lastBaselineAt = time;
      if (event.data.baseline !== baselineBefore) record.previousBaseline = baselineBefore;
      break;
  }
  record.applyingSince = record.state.value === 'applying' ? (event.type === 'PatchApplyStarted' ? time : record.applyingSince) : null;
}

/** A rollout record as an update writes it: the projection's (Maps and Sets), or a decision's draft of it. */
export interface RolloutRecordUpdate {
  state: RolloutState;
  version: number;
  plan: RolloutEventData['RolloutPlanned'] | null;
  readonly instructed: { set(device: string, instruction: Instruction): unknown };
  readonly outcomes: { has(device: string): boolean; set(device: string, outcome: RolloutOutcome): unknown };
  readonly pending: { add(device: string): unknown; delete(device: string): unknown };
  readonly pauses: Array<[from: string, to: string | null]>;
}

/** What a rollout's event changes in its record (the releases it names are the projection's business). */
export function evolveRolloutRecord(record: RolloutRecordUpdate, event: HotpatchEvent, time: string, state?: RolloutState): void {
  const wasPaused = record.state.value === 'paused';
  record.state = state ?? (rolloutLifecycle.evolve(record.state, event as never) as RolloutState);
  record.version = event.version;
  notePause(record.pauses, wasPaused, record.state.value === 'paused', event.time);
  switch (event.type) {
    case 'RolloutPlanned':
      record.plan = event.data;
      break;
    case 'DeviceInstructed':
      record.instructed.set(event.data.device, { ring: event.data.ring, action: event.data.action, at: time });
      if (!record.outcomes.has(event.data.device)) record.pending.add(event.data.device);
      break;
    case 'DeviceSucceeded':
      record.outcomes.set(event.data.device, 'succeeded');
      record.pending.delete(event.data.device);
      break;
    case 'DeviceFailed':
      record.outcomes.set(event.data.device, 'failed');
      record.pending.delete(event.data.device);
      break;
    case 'DeviceSetAside':
      record.outcomes.set(event.data.device, 'setAside');
      record.pending.delete(event.data.device);
      break;
  }
}

/** Opens a pause when a stream became paused, and closes it when it stopped being paused. */
export function notePause(pauses: Array<[string, string | null]>, was: boolean, is: boolean, at: string): void {
  if (is && !was) pauses.push([at, null]);
  else if (!is && was) pauses[pauses.length - 1]![1] = at;
}
