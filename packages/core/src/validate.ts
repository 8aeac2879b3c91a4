import { InvalidEventError, type EventLocation } from './errors.js';
import { describe, isIsoUtc, IsoTime } from './schema.js';
import { EnvelopeSchema, EventIdSchema, HashSchema, MAX_META_DEPTH, nestedDeeperThan, unwritableJson, type EventEnvelope } from './envelope.js';
import { dataAcceptOf, dataCheckOf, eventCheckOf } from './event-schema.js';
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

/** For each character code below 128: 1 when it is a lower-case hex digit (0-9, a-f). */
const LOWER_HEX = new Uint8Array(128);
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1;

/** True for a UUID written in lower case (8-4-4-4-12 hex digits): EventIdSchema's fast path. */
export function isLowerUuid(id: string): boolean {
  if (id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return false;
  // A table look-up per character (a code of 128 or more reads undefined, which is not 1).
  return hexRun(id, 0, 8) && hexRun(id, 9, 13) && hexRun(id, 14, 18) && hexRun(id, 19, 23) && hexRun(id, 24, 36);
}
function hexRun(id: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (LOWER_HEX[id.charCodeAt(i)] !== 1) return false;
  return true;
}
/** True for 64 lower-case hex digits: HASH_PATTERN (`^[0-9a-f]{64}$`) by table look-up, as isLowerUuid (the pattern's test was 4% of folding a hashed log). */
export function isSha256Hex(hash: string): boolean {
  return hash.length === 64 && hexRun(hash, 0, 64);
}
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
  throw dataProblem(kind, type, data, typeof at === 'function' ? at() : at);
}

/** The error for data its type's schema refuses, or for a type the kind does not have. */
function dataProblem(kind: StreamKind, type: string, data: unknown, at: EventLocation): InvalidEventError {
  const check = dataCheckOf(kind, type);
  if (check === undefined) return new InvalidEventError(at, `unknown ${kind.name} event type ${JSON.stringify(type)}; known: ${kind.eventTypes.join(', ')}`, 'type');
  const problem = check.problem(data)!;
  return new InvalidEventError(at, problem.message, pathWithin('data', problem.path));
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
  if (kind === undefined) throw streamError(stream, at);
  return kind;
}

function streamError(stream: unknown, at: EventLocation): InvalidEventError {
  return new InvalidEventError(at, `expected ${STREAM_NAME_HINT}${streamTenantProblem(stream)}, got ${describe(stream)}`, 'stream');
}

/**
 * Validates an untrusted value as a recorded event (a line of a timeline, a store's row): accepts exactly what
 * EventSchema accepts. Returns it typed; throws InvalidEventError naming the first field that is wrong.
 */
export function validateEvent(value: unknown, at: EventLocation = {}): HotpatchEvent {
  const problem = eventProblem(value);
  if (problem !== undefined) throw problem(at);
  return value as HotpatchEvent;
}

/** What is wrong with a value taken for an event: the error, made for where it is; undefined when it is an event. */
export type EventProblem = (at: EventLocation) => InvalidEventError;

/**
 * The check of validateEvent, without a location: undefined when `value` is an event (then nothing is allocated,
 * the path every line of a timeline takes), else the error's maker, so that a reader builds the location (its line,
 * its file) only for a line that is wrong.
 */
export function eventProblem(value: unknown): EventProblem | undefined {
  if (!isPlainObject(value)) return (at) => new InvalidEventError(at, `expected a JSON object, got ${describe(value)}`);
  const { id, stream, version, type, time, data, meta, position, hash } = value;
  const kind = typeof stream === 'string' ? streamKindOf(stream) : undefined;
  if (kind === undefined) return (at) => streamError(stream, at);
  if (typeof id !== 'string' || !isLowerUuid(id)) return envelopeProblem(value, 'id', `expected ${A_UUID}, got ${describe(id)}`);
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return envelopeProblem(value, 'version', `expected ${A_COUNTER}, got ${describe(version)}`);
  if (typeof type !== 'string') return envelopeProblem(value, 'type', `expected a string, got ${describe(type)}`);
  if (!isIsoUtc(time)) return envelopeProblem(value, 'time', `expected ${A_TIME}, got ${describe(time)}`);
  const accept = dataAcceptOf(kind, type);
  if (accept === undefined || !accept(data)) return (at) => dataProblem(kind, type, data, where(value, at));
  if (meta !== undefined && !isPlainObject(meta)) return envelopeProblem(value, 'meta', `expected an object, got ${describe(meta)}`);
  if (meta !== undefined && nestedDeeperThan(meta, MAX_META_DEPTH)) return envelopeProblem(value, 'meta', `nested deeper than ${MAX_META_DEPTH} levels`);
  if (position !== undefined && (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 1)) {
    return envelopeProblem(value, 'position', `expected ${A_COUNTER}, got ${describe(position)}`);
  }
  if (hash !== undefined && (typeof hash !== 'string' || !isSha256Hex(hash))) return envelopeProblem(value, 'hash', `expected ${A_HASH}, got ${describe(hash)}`);
  // Unknown fields: counting is enough on the common path; the slow path names the field.
  const known = 6 + (meta !== undefined ? 1 : 0) + (position !== undefined ? 1 : 0) + (hash !== undefined ? 1 : 0);
  let count = 0;
  for (const _ in value) count++;
  if (count !== known) {
    for (const key in value) {
      if (!ENVELOPE_KEYS.has(key)) return envelopeProblem(value, key, `unknown field; an event has ${[...ENVELOPE_KEYS].join(', ')}`);
    }
  }
  return undefined;
}

/** Where an event is: the reader's location, its stream and (when it is a number) its version. */
function where(value: Record<string, unknown>, at: EventLocation): EventLocation {
  return { ...at, stream: value.stream as string, ...(typeof value.version === 'number' ? { version: value.version } : {}) };
}

function envelopeProblem(value: Record<string, unknown>, field: string, what: string): EventProblem {
  return (at) => new InvalidEventError(where(value, at), what, field);
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
  // What JSON cannot write (a BigInt, a circular value), said here rather than as JSON.stringify's TypeError; and data
  // it would write otherwise than it was checked (a toJSON method): the log would hold data no lifecycle checked.
  for (const field of ['data', 'meta'] as const) {
    const found = unwritableJson(event[field], MAX_META_DEPTH, field, field === 'data');
    if (found !== undefined) throw new InvalidEventError(at, found.problem, found.path);
  }
}

export type { EventEnvelope };
