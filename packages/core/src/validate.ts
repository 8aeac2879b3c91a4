import { InvalidEventError, type EventLocation } from './errors.js';
import { describe, isIsoUtc, IsoTime } from './schema.js';
import { EnvelopeSchema, EventIdSchema, HASH_PATTERN, HashSchema, MAX_META_DEPTH, nestedDeeperThan, unwritableJson, type EventEnvelope } from './envelope.js';
import { dataCheckOf, eventCheckOf } from './event-schema.js';
import { expected, pathWithin } from './schema-check.js';
import type { HotpatchEvent } from './events.js';
import { DEVICE_STREAMS, STREAM_NAME_HINT, streamKindOf, type StreamKind } from './streams.js';
import { TENANT_STREAM_PREFIX } from './stream-name.js';
import { tenantProblem } from './tenant.js';


/**
 * Validation of what comes from outside (a timeline's line, a store's row, an append). Every event of a timeline
 * goes through validateEvent, so its envelope is checked by hand, the fast path of EnvelopeSchema (the compiled
 * check is 2–3 times slower there, docs/events.md); each type's data by its compiled schema. A property test holds
 * the two to the same answers (event-schema.test.ts).
 */

/** True for a UUID written in lower case (8-4-4-4-12 hex digits): EventIdSchema's fast path. */
export function isLowerUuid(id: string): boolean {
  if (id.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
const SHA256_HEX = new RegExp(HASH_PATTERN);
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(Object.keys(EnvelopeSchema.properties));
// What the envelope's fields expect, in the schema's words.
const A_UUID = expected(EventIdSchema);
const A_COUNTER = expected(EnvelopeSchema.properties.version);
const A_TIME = expected(IsoTime);
const A_HASH = expected(HashSchema);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks an event's data against its type's schema in a kind of stream. Throws InvalidEventError naming the field.
 * Unknown extra fields are kept (events may grow), known ones must have the right type.
 */
export function validateEventData(kind: StreamKind, type: string, data: unknown, at: EventLocation | (() => EventLocation)): void {
  const check = dataCheckOf(kind, type);
  if (check !== undefined && check.check(data)) return;
  const where = () => (typeof at === 'function' ? at() : at);
  if (check === undefined) {
    throw new InvalidEventError(where(), `unknown ${kind.name} event type ${JSON.stringify(type)}; known: ${kind.eventTypes.join(', ')}`, 'type');
  }
  const problem = check.problem(data)!;
  throw new InvalidEventError(where(), problem.message, pathWithin('data', problem.path));
}

/** Whether a value is an event of the log, by its compiled schema alone (the check validateEvent's fast path must agree with). */
export function checkEventSchema(value: unknown): boolean {
  if (!isPlainObject(value) || typeof value.stream !== 'string') return false;
  const kind = streamKindOf(value.stream);
  return kind !== undefined && eventCheckOf(kind, value.type)?.check(value) === true;
}

/** Checks a device event's data (see validateEventData). */
export function validateDeviceEventData(type: string, data: unknown, at: EventLocation): void {
  validateEventData(DEVICE_STREAMS, type, data, at);
}

/** For a `tenant/…` name: that a named tenant's kinds lie under `tenant/<tenant>/`, and what is wrong with its tenant; '' for any other name. */
function streamTenantProblem(stream: unknown): string {
  if (typeof stream !== 'string' || !stream.startsWith(TENANT_STREAM_PREFIX)) return '';
  const end = stream.indexOf('/', TENANT_STREAM_PREFIX.length);
  const problem = end < 0 ? 'ends with no "/"' : tenantProblem(stream.slice(TENANT_STREAM_PREFIX.length, end));
  return `, each under "${TENANT_STREAM_PREFIX}<tenant>/" for a named tenant${problem === undefined ? '' : ` (the tenant here ${problem})`}`;
}

function kindOf(stream: unknown, at: EventLocation): StreamKind {
  const kind = typeof stream === 'string' ? streamKindOf(stream) : undefined;
  if (kind === undefined) throw new InvalidEventError(at, `expected ${STREAM_NAME_HINT}${streamTenantProblem(stream)}, got ${describe(stream)}`, 'stream');
  return kind;
}

/**
 * Validates an untrusted value as a recorded event (a line of a timeline, a row of a store): accepts exactly what
 * EventSchema accepts. Returns it typed; throws InvalidEventError naming the first field that is wrong.
 */
export function validateEvent(value: unknown, at: EventLocation = {}): HotpatchEvent {
  if (!isPlainObject(value)) throw new InvalidEventError(at, `expected a JSON object, got ${describe(value)}`);
  const { id, stream, version, type, time, data, meta, position, hash } = value;
  const kind = kindOf(stream, at);
  // Where the event is, built only when something is wrong with it.
  const where = (): EventLocation => ({ ...at, stream: stream as string, ...(typeof version === 'number' ? { version } : {}) });
  if (typeof id !== 'string' || !isLowerUuid(id)) throw new InvalidEventError(where(), `expected ${A_UUID}, got ${describe(id)}`, 'id');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new InvalidEventError(where(), `expected ${A_COUNTER}, got ${describe(version)}`, 'version');
  }
  if (typeof type !== 'string') throw new InvalidEventError(where(), `expected a string, got ${describe(type)}`, 'type');
  if (!isIsoUtc(time)) throw new InvalidEventError(where(), `expected ${A_TIME}, got ${describe(time)}`, 'time');
  validateEventData(kind, type, data, where);
  if (meta !== undefined && !isPlainObject(meta)) throw new InvalidEventError(where(), `expected an object, got ${describe(meta)}`, 'meta');
  if (meta !== undefined && nestedDeeperThan(meta, MAX_META_DEPTH)) throw new InvalidEventError(where(), `nested deeper than ${MAX_META_DEPTH} levels`, 'meta');
  if (position !== undefined && (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 1)) {
    throw new InvalidEventError(where(), `expected ${A_COUNTER}, got ${describe(position)}`, 'position');
  }
  if (hash !== undefined && (typeof hash !== 'string' || !SHA256_HEX.test(hash))) {
    throw new InvalidEventError(where(), `expected ${A_HASH}, got ${describe(hash)}`, 'hash');
  }
  // Unknown fields: counting is enough on the common path; the slow path names the field.
  const known = 6 + (meta !== undefined ? 1 : 0) + (position !== undefined ? 1 : 0) + (hash !== undefined ? 1 : 0);
  let count = 0;
  for (const _ in value) count++;
  if (count !== known) {
    for (const key in value) {
      if (!ENVELOPE_KEYS.has(key)) throw new InvalidEventError(where(), `unknown field; an event has ${[...ENVELOPE_KEYS].join(', ')}`, key);
    }
  }
  return value as unknown as HotpatchEvent;
}

/** The envelope fields a store checks before it writes. */
export function validateNewEventFields(
  event: { readonly id?: unknown; readonly type?: unknown; readonly time?: unknown; readonly data?: unknown; readonly meta?: unknown },
  at: EventLocation,
): void {
  if (event.id !== undefined && (typeof event.id !== 'string' || !isLowerUuid(event.id))) {
    throw new InvalidEventError(at, `expected ${A_UUID}, got ${describe(event.id)}`, 'id');
  }
  if (typeof event.type !== 'string') throw new InvalidEventError(at, `expected a string, got ${describe(event.type)}`, 'type');
  if (!isIsoUtc(event.time)) throw new InvalidEventError(at, `expected ${A_TIME}, got ${describe(event.time)}`, 'time');
  validateEventData(kindOf(at.stream, at), event.type, event.data, at);
  if (event.meta !== undefined && !isPlainObject(event.meta)) throw new InvalidEventError(at, `expected an object, got ${describe(event.meta)}`, 'meta');
  // What JSON cannot write (a BigInt, a circular value), said here rather than as JSON.stringify's TypeError.
  for (const field of ['data', 'meta'] as const) {
    const found = unwritableJson(event[field], MAX_META_DEPTH, field);
    if (found !== undefined) throw new InvalidEventError(at, found.problem, found.path);
  }
}

export type { EventEnvelope };
