/**
 * A device's events (stream `device/<id>`): facts in the past tense, self-contained, so that a timeline replays
 * without a catalog. Each type's data is defined once, as a schema (its type, check and JSON Schema); docs/events.md
 * says what the fields mean.
 */
import { Type } from '../typebox.js';
import type { EventBodyOf, EventOf } from '../envelope.js';
import { NonEmptyString, oneOf, StringList, Text, type Shape } from '../schema.js';

/** What a device reports about itself at enrolment: the inputs of the eligibility rules. */
export const DeviceProfileSchema = Type.Object({
  edition: NonEmptyString,
  /** Build as "major.revision", e.g. "26100.1742". */
  build: NonEmptyString,
  arch: oneOf('x64', 'arm64'),
  vbs: Type.Boolean(),
  tpm2: Type.Boolean(),
  secureBoot: Type.Boolean(),
  chpeDisabled: Type.Boolean(),
});
export type DeviceProfile = Shape<typeof DeviceProfileSchema>;
export type Arch = DeviceProfile['arch'];

/** Why a device must restart. Known reasons (the schema's examples); other strings are accepted and kept as they are. */
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

/** The data of each device event type: the one definition of its fields (docs/events.md says what they mean). */
export const DEVICE_EVENT_DATA = {
  DeviceEnrolled: Type.Object({ ...DeviceProfileSchema.properties, ring: NonEmptyString, baseline: NonEmptyString }),
  EligibilityAssessed: Type.Object({ eligible: Type.Boolean(), reasons: StringList }),
  PatchStaged: Type.Object({ patch: NonEmptyString, baseline: NonEmptyString, requires: StringList, liveRevert: Type.Boolean() }),
  PatchApplyStarted: Type.Object({ patch: NonEmptyString }),
  PatchApplied: Type.Object({ patch: NonEmptyString }),
  PatchApplyFailed: Type.Object({ patch: NonEmptyString, reason: Text }),
  PatchVerified: Type.Object({ patch: NonEmptyString }),
  HealthCheckFailed: Type.Object({ patch: NonEmptyString, signal: Text }),
  RollbackStarted: Type.Object({ patch: NonEmptyString, reason: Text }),
  PatchRolledBack: Type.Object({ patch: NonEmptyString }),
  RollbackFailed: Type.Object({ patch: NonEmptyString, reason: Text }),
  RebootRequired: Type.Object({ reason: Type.String({ minLength: 1, examples: [...REBOOT_REASONS] }), baseline: Type.Optional(NonEmptyString) }),
  BaselineInstalled: Type.Object({ baseline: NonEmptyString }),
  DeviceRetired: Type.Object({}),
};

export type DeviceEventData = { readonly [T in keyof typeof DEVICE_EVENT_DATA]: Shape<(typeof DEVICE_EVENT_DATA)[T]> };

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
