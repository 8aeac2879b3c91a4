/**
 * A device's events (stream `device/<id>`): facts in the past tense, self-contained, so that a timeline replays
 * without a catalog. See docs/events.md for the prose version of this file.
 */
import type { EventBodyOf, EventOf } from '../envelope.js';

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
export type DeviceEventBody = EventBodyOf<DeviceEventData>;

export type DeviceEvent = EventOf<DeviceEventData>;
