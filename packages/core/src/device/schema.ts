import { field, type EventSchema } from '../schema.js';
import type { DeviceEventType } from './events.js';

/** The data schema of every device event type: the single place that says which fields an event has. */
export const DEVICE_EVENT_SCHEMAS: { readonly [T in DeviceEventType]: EventSchema } = {
  DeviceEnrolled: {
    edition: field.nonEmptyString,
    build: field.nonEmptyString,
    arch: field.oneOf('x64', 'arm64'),
    vbs: field.boolean,
    tpm2: field.boolean,
    secureBoot: field.boolean,
    chpeDisabled: field.boolean,
    ring: field.nonEmptyString,
    baseline: field.nonEmptyString,
  },
  EligibilityAssessed: { eligible: field.boolean, reasons: field.stringArray },
  PatchStaged: { patch: field.nonEmptyString, baseline: field.nonEmptyString, requires: field.stringArray, liveRevert: field.boolean },
  PatchApplyStarted: { patch: field.nonEmptyString },
  PatchApplied: { patch: field.nonEmptyString },
  PatchApplyFailed: { patch: field.nonEmptyString, reason: field.string },
  PatchVerified: { patch: field.nonEmptyString },
  HealthCheckFailed: { patch: field.nonEmptyString, signal: field.string },
  RollbackStarted: { patch: field.nonEmptyString, reason: field.string },
  PatchRolledBack: { patch: field.nonEmptyString },
  RollbackFailed: { patch: field.nonEmptyString, reason: field.string },
  RebootRequired: { reason: field.nonEmptyString, baseline: field.optional(field.nonEmptyString) },
  BaselineInstalled: { baseline: field.nonEmptyString },
  DeviceRetired: {},
};

