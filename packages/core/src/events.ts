/**
 * The event catalog: facts in the past tense, self-contained, so that a timeline replays without a catalog.
 * See docs/events.md for the prose version of this file.
 */

export type Arch = 'x64' | 'arm64';

/** What a device reports about itself at enrolment: the inputs of the eligibility rules. */
export interface DeviceProfile {
  readonly edition: string;
  /** Build as "major.revision", e.g. "26100.1742". */
  readonly build: string;
  readonly arch: Arch;
  readonly vbs: boolean;
  readonly tpm2: boolean;
  readonly secureBoot: boolean;
  readonly chpeDisabled: boolean;
}

/** Why a device must restart. Known reasons; other strings are accepted and kept as they are. */
export const REBOOT_REASONS = [
  'baseline',
  'unplanned-baseline',
  'out-of-band',
  'rollback-failed',
  'not-live-revertible',
  'eligibility',
  'forced-transition',
  /** A cumulative update that made the device unhealthy is removed: back to the baseline it replaced. */
  'update-uninstall',
  /** A hotpatch that did not take (its apply failed, or stalled and timed out): the release's cumulative update instead. */
  'hotpatch-failed',
] as const;
export type KnownRebootReason = (typeof REBOOT_REASONS)[number];
export type RebootReason = KnownRebootReason | (string & {});

export interface DeviceEventData {
  DeviceEnrolled: DeviceProfile & { readonly ring: string; readonly baseline: string };
  EligibilityAssessed: { readonly eligible: boolean; readonly reasons: readonly string[] };
  PatchStaged: {
    readonly patch: string;
    readonly baseline: string;
    readonly requires: readonly string[];
    readonly liveRevert: boolean;
  };
  PatchApplyStarted: { readonly patch: string };
  PatchApplied: { readonly patch: string };
  PatchApplyFailed: { readonly patch: string; readonly reason: string };
  PatchVerified: { readonly patch: string };
  HealthCheckFailed: { readonly patch: string; readonly signal: string };
  RollbackStarted: { readonly patch: string; readonly reason: string };
  PatchRolledBack: { readonly patch: string };
  RollbackFailed: { readonly patch: string; readonly reason: string };
  RebootRequired: { readonly reason: RebootReason; readonly baseline?: string };
  BaselineInstalled: { readonly baseline: string };
  DeviceRetired: Record<string, never>;
}

export type DeviceEventType = keyof DeviceEventData;

export const DEVICE_EVENT_TYPES = [
  'DeviceEnrolled',
  'EligibilityAssessed',
  'PatchStaged',
  'PatchApplyStarted',
  'PatchApplied',
  'PatchApplyFailed',
  'PatchVerified',
  'HealthCheckFailed',
  'RollbackStarted',
  'PatchRolledBack',
  'RollbackFailed',
  'RebootRequired',
  'BaselineInstalled',
  'DeviceRetired',
] as const satisfies readonly DeviceEventType[];

/** The part of an event that the lifecycle decides on: its type and data. */
export type DeviceEventBody = {
  [T in DeviceEventType]: { readonly type: T; readonly data: DeviceEventData[T] };
}[DeviceEventType];

/** An event as written to a timeline or a store (one JSONL line). */
export interface EventEnvelope<TType extends string = string, TData = unknown> {
  readonly id: string;
  readonly stream: string;
  /** 1-based, contiguous per stream. */
  readonly version: number;
  readonly type: TType;
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly data: TData;
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Global, 1-based; added by a store. */
  readonly position?: number;
  /** Tamper evidence; added by a store. */
  readonly hash?: string;
}

export type DeviceEvent = {
  [T in DeviceEventType]: EventEnvelope<T, DeviceEventData[T]>;
}[DeviceEventType];

export const DEVICE_STREAM_PREFIX = 'device/';

export function deviceStream(deviceId: string): string {
  return DEVICE_STREAM_PREFIX + deviceId;
}

/** The device id of a `device/<id>` stream, or undefined for another kind of stream. */
export function deviceIdOf(stream: string): string | undefined {
  return stream.startsWith(DEVICE_STREAM_PREFIX) ? stream.slice(DEVICE_STREAM_PREFIX.length) : undefined;
}

/** Any event of the log: a device's, a rollout's or a ring's. */
export type HotpatchEvent = DeviceEvent | import('./rollout/events.js').RolloutEvent | import('./ring/events.js').RingEvent;
