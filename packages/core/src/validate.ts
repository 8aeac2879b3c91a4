import { InvalidEventError, type EventLocation } from './errors.js';
import {
  DEVICE_EVENT_TYPES,
  DEVICE_STREAM_PREFIX,
  type DeviceEvent,
  type DeviceEventType,
  type EventEnvelope,
} from './events.js';

type FieldKind = 'string' | 'nonEmptyString' | 'boolean' | 'stringArray' | 'arch';
interface FieldSpec {
  readonly kind: FieldKind;
  readonly optional?: boolean;
}
const req = (kind: FieldKind): FieldSpec => ({ kind });
const opt = (kind: FieldKind): FieldSpec => ({ kind, optional: true });

/** The data schema of every device event type: the single place that says which fields an event has. */
export const DEVICE_EVENT_SCHEMAS: { readonly [T in DeviceEventType]: Readonly<Record<string, FieldSpec>> } = {
  DeviceEnrolled: {
    edition: req('nonEmptyString'),
    build: req('nonEmptyString'),
    arch: req('arch'),
    vbs: req('boolean'),
    tpm2: req('boolean'),
    secureBoot: req('boolean'),
    chpeDisabled: req('boolean'),
    ring: req('nonEmptyString'),
    baseline: req('nonEmptyString'),
  },
  EligibilityAssessed: { eligible: req('boolean'), reasons: req('stringArray') },
  PatchStaged: {
    patch: req('nonEmptyString'),
    baseline: req('nonEmptyString'),
    requires: req('stringArray'),
    liveRevert: req('boolean'),
  },
  PatchApplyStarted: { patch: req('nonEmptyString') },
  PatchApplied: { patch: req('nonEmptyString') },
  PatchApplyFailed: { patch: req('nonEmptyString'), reason: req('string') },
  PatchVerified: { patch: req('nonEmptyString') },
  HealthCheckFailed: { patch: req('nonEmptyString'), signal: req('string') },
  RollbackStarted: { patch: req('nonEmptyString'), reason: req('string') },
  PatchRolledBack: { patch: req('nonEmptyString') },
  RollbackFailed: { patch: req('nonEmptyString'), reason: req('string') },
  RebootRequired: { reason: req('nonEmptyString'), baseline: opt('nonEmptyString') },
  BaselineInstalled: { baseline: req('nonEmptyString') },
  DeviceRetired: {},
};

const KNOWN_TYPES: ReadonlySet<string> = new Set(DEVICE_EVENT_TYPES);

export function isDeviceEventType(type: string): type is DeviceEventType {
  return KNOWN_TYPES.has(type);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['id', 'stream', 'version', 'type', 'time', 'data', 'meta', 'position', 'hash']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkField(value: unknown, spec: FieldSpec): string | undefined {
  switch (spec.kind) {
    case 'string':
      return typeof value === 'string' ? undefined : `expected a string, got ${describe(value)}`;
    case 'nonEmptyString':
      return typeof value === 'string' && value.length > 0 ? undefined : `expected a non-empty string, got ${describe(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${describe(value)}`;
    case 'arch':
      return value === 'x64' || value === 'arm64' ? undefined : `expected "x64" or "arm64", got ${describe(value)}`;
    case 'stringArray':
      if (!Array.isArray(value)) return `expected an array of strings, got ${describe(value)}`;
      for (let i = 0; i < value.length; i++) {
        if (typeof value[i] !== 'string' || value[i] === '') return `item ${i}: expected a non-empty string, got ${describe(value[i])}`;
      }
      return undefined;
  }
}

function describe(value: unknown): string {
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

/**
 * Checks an event's data against its type's schema. Throws InvalidEventError naming the field.
 * Unknown extra fields are kept (events may grow), known ones must have the right type.
 */
export function validateDeviceEventData(type: string, data: unknown, at: EventLocation): void {
  if (!isDeviceEventType(type)) {
    throw new InvalidEventError(at, `unknown event type ${JSON.stringify(type)}; known: ${DEVICE_EVENT_TYPES.join(', ')}`, 'type');
  }
  if (!isPlainObject(data)) throw new InvalidEventError(at, `expected an object, got ${describe(data)}`, 'data');
  const schema = DEVICE_EVENT_SCHEMAS[type];
  for (const key in schema) {
    const spec = schema[key]!;
    const value = data[key];
    if (value === undefined && spec.optional) continue;
    const problem = checkField(value, spec);
    if (problem !== undefined) throw new InvalidEventError(at, problem, `data.${key}`);
  }
}

/**
 * Validates an untrusted value as a recorded event (a line of a timeline, a row of a store).
 * Returns it typed; throws InvalidEventError naming the first field that is wrong.
 */
export function validateEvent(value: unknown, at: EventLocation = {}): DeviceEvent {
  if (!isPlainObject(value)) throw new InvalidEventError(at, `expected a JSON object, got ${describe(value)}`);
  const { id, stream, version, type, time, data, meta, position, hash } = value;
  if (typeof stream !== 'string' || !stream.startsWith(DEVICE_STREAM_PREFIX) || stream.length === DEVICE_STREAM_PREFIX.length) {
    throw new InvalidEventError(at, `expected "device/<deviceId>", got ${describe(stream)}`, 'stream');
  }
  const where: EventLocation = { ...at, stream, ...(typeof version === 'number' ? { version } : {}) };
  if (typeof id !== 'string' || !UUID.test(id)) throw new InvalidEventError(where, `expected a UUID, got ${describe(id)}`, 'id');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new InvalidEventError(where, `expected an integer ≥ 1, got ${describe(version)}`, 'version');
  }
  if (typeof type !== 'string') throw new InvalidEventError(where, `expected a string, got ${describe(type)}`, 'type');
  if (!isIsoUtc(time)) throw new InvalidEventError(where, `expected an ISO-8601 UTC time like 2026-01-13T09:00:00.000Z, got ${describe(time)}`, 'time');
  validateDeviceEventData(type, data, where);
  if (meta !== undefined && !isPlainObject(meta)) throw new InvalidEventError(where, `expected an object, got ${describe(meta)}`, 'meta');
  if (position !== undefined && (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 1)) {
    throw new InvalidEventError(where, `expected an integer ≥ 1, got ${describe(position)}`, 'position');
  }
  if (hash !== undefined && (typeof hash !== 'string' || !SHA256_HEX.test(hash))) {
    throw new InvalidEventError(where, `expected 64 lowercase hex digits, got ${describe(hash)}`, 'hash');
  }
  for (const key in value) {
    if (!ENVELOPE_KEYS.has(key)) throw new InvalidEventError(where, `unknown field; an event has ${[...ENVELOPE_KEYS].join(', ')}`, key);
  }
  return value as unknown as DeviceEvent;
}

/** The envelope fields a store checks before it writes. */
export function validateNewEventFields(
  event: { readonly id?: unknown; readonly type?: unknown; readonly time?: unknown; readonly data?: unknown; readonly meta?: unknown },
  at: EventLocation,
): void {
  if (event.id !== undefined && (typeof event.id !== 'string' || !UUID.test(event.id))) {
    throw new InvalidEventError(at, `expected a UUID, got ${describe(event.id)}`, 'id');
  }
  if (typeof event.type !== 'string') throw new InvalidEventError(at, `expected a string, got ${describe(event.type)}`, 'type');
  if (!isIsoUtc(event.time)) throw new InvalidEventError(at, `expected an ISO-8601 UTC time, got ${describe(event.time)}`, 'time');
  validateDeviceEventData(event.type, event.data, at);
  if (event.meta !== undefined && !isPlainObject(event.meta)) throw new InvalidEventError(at, `expected an object, got ${describe(event.meta)}`, 'meta');
}

export type { EventEnvelope };
