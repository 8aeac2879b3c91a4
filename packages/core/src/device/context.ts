import type { DeviceProfile, RebootReason } from './events.js';

/** A hotpatch as the device knows it: everything the lifecycle decides on travels with it. */
export interface PatchRef {
  readonly patch: string;
  readonly baseline: string;
  readonly requires: readonly string[];
  readonly liveRevert: boolean;
}

/**
 * The lifecycle's context. Plain JSON, small, and copied (never mutated) on every change, so that a state can be
 * compared, fingerprinted and persisted as it is.
 */
export interface DeviceContext {
  readonly profile: DeviceProfile | null;
  readonly ring: string | null;
  /** The installed baseline. */
  readonly baseline: string | null;
  readonly eligible: boolean;
  readonly ineligibleReasons: readonly string[];
  /** Active hotpatches, each with the requirements it declared: id → requires. */
  readonly applied: Readonly<Record<string, readonly string[]>>;
  /** The patch in flight (staged, applying, applied, failed, rolling back); null when nothing is. */
  readonly inFlight: PatchRef | null;
  /** The hotpatches that were active before the last apply began; what a live rollback restores exactly. */
  readonly restorePoint: Readonly<Record<string, readonly string[]>> | null;
  /** The last verified patch, while it may still be rolled back live from `verified`. */
  readonly rollbackable: PatchRef | null;
  /** The patch whose health check passed last (set by PatchVerified). */
  readonly verifiedPatch: string | null;
  /** Why the last apply or health check failed, while the failure is being handled. */
  readonly failure: string | null;
  readonly rebootReason: RebootReason | null;
  /** The baseline the pending reboot should install, when the reason names one. */
  readonly rebootBaseline: string | null;
}

/**
 * A set of active hotpatches (id → requires) as the lifecycle builds it: an object without a prototype, so that a
 * patch named like an Object method ("constructor", "toString") is not taken for an applied one, and so that V8
 * keeps it as a small dictionary rather than minting a hidden class for every combination of patch ids a fleet
 * goes through (which made every fold slow). Plain objects read back from JSON are accepted wherever one is.
 */
export function appliedSet(from?: Readonly<Record<string, readonly string[]>> | null, add?: PatchRef): Record<string, readonly string[]> {
  const set = Object.create(null) as Record<string, readonly string[]>;
  if (from) for (const id of Object.keys(from)) set[id] = from[id]!;
  if (add) set[add.patch] = add.requires;
  return set;
}

export const initialDeviceContext: DeviceContext = {
  profile: null,
  ring: null,
  baseline: null,
  eligible: false,
  ineligibleReasons: [],
  applied: appliedSet(),
  inFlight: null,
  restorePoint: null,
  rollbackable: null,
  verifiedPatch: null,
  failure: null,
  rebootReason: null,
  rebootBaseline: null,
};

/** The lifecycle's states. `unenrolled` is the state of a stream with no events yet. */
export const DEVICE_STATES = [
  'unenrolled',
  'enrolled',
  'ineligible',
  'current',
  'staged',
  'applying',
  'applied',
  'verified',
  'failed',
  'rollingBack',
  'rolledBack',
  'needsReboot',
  'retired',
] as const;
export type DeviceStateValue = (typeof DEVICE_STATES)[number];

/** States where a device rests on a baseline with nothing in flight, and may take the next hotpatch. */
export const RESTING_STATES: readonly DeviceStateValue[] = ['current', 'verified', 'rolledBack'];
/** States with a patch in flight. */
export const IN_FLIGHT_STATES: readonly DeviceStateValue[] = ['staged', 'applying', 'applied', 'failed', 'rollingBack'];

/** A device's state: what `evolve` folds and what the machine's snapshot holds (value and context). */
export interface DeviceState {
  readonly value: DeviceStateValue;
  readonly context: DeviceContext;
}

export const initialDeviceState: DeviceState = { value: 'unenrolled', context: initialDeviceContext };

/** The applied set as a sorted list of ids. */
export function appliedPatches(context: DeviceContext): string[] {
  return Object.keys(context.applied).sort();
}
