/**
 * Event schemas: which fields each event type has and what each must hold. One place per kind of stream; the
 * validators, the docs and the stores all read them from here.
 */
import type { DeviceEventType } from './events.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** True when `time` is an ISO-8601 UTC timestamp of a real instant. */
export function isIsoUtc(time: unknown): time is string {
  return typeof time === 'string' && ISO_UTC.test(time) && !Number.isNaN(Date.parse(time));
}

/** A field's check: a message saying what is wrong with the value, or undefined. */
export interface FieldSpec {
  readonly check: (value: unknown) => string | undefined;
  readonly optional?: boolean;
}
export type EventSchema = Readonly<Record<string, FieldSpec>>;

const spec = (check: (value: unknown) => string | undefined): FieldSpec => ({ check });
const optional = (field: FieldSpec): FieldSpec => ({ ...field, optional: true });

export const field = {
  string: spec((v) => (typeof v === 'string' ? undefined : `expected a string, got ${describe(v)}`)),
  nonEmptyString: spec((v) => (typeof v === 'string' && v.length > 0 ? undefined : `expected a non-empty string, got ${describe(v)}`)),
  boolean: spec((v) => (typeof v === 'boolean' ? undefined : `expected true or false, got ${describe(v)}`)),
  nonNegativeInt: spec((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : `expected a whole number ≥ 0, got ${describe(v)}`)),
  isoTime: spec((v) => (isIsoUtc(v) ? undefined : `expected an ISO-8601 UTC time, got ${describe(v)}`)),
  stringArray: spec((v) => {
    if (!Array.isArray(v)) return `expected an array of strings, got ${describe(v)}`;
    for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string' || v[i] === '') return `item ${i}: expected a non-empty string, got ${describe(v[i])}`;
    return undefined;
  }),
  oneOf: (...values: readonly string[]) => spec((v) => (typeof v === 'string' && values.includes(v) ? undefined : `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}`)),
  optional,
  custom: spec,
};

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
  RebootRequired: { reason: field.nonEmptyString, baseline: optional(field.nonEmptyString) },
  BaselineInstalled: { baseline: field.nonEmptyString },
  DeviceRetired: {},
};

