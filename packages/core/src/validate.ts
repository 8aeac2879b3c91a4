import { InvalidEventError, type EventLocation } from './errors.js';
import { describe, isIsoUtc } from './schema.js';
import type { EventEnvelope } from './envelope.js';
import type { HotpatchEvent } from './events.js';
import { DEVICE_STREAMS, STREAM_NAME_HINT, streamKindOf, type StreamKind } from './streams.js';


// Lower case only: stores compare ids as text, so the same id in two cases would be two events.
/** True for a UUID written in lower case (8-4-4-4-12 hex digits). */
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
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['id', 'stream', 'version', 'type', 'time', 'data', 'meta', 'position', 'hash']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface CompiledField {
  readonly key: string;
  readonly check: (value: unknown) => string | undefined;
  readonly optional: boolean;
}
// Each schema as a flat list, built once: validation runs for every event of every timeline read.
const compiledSchemas = new WeakMap<object, ReadonlyMap<string, readonly CompiledField[]>>();
function fieldsOf(kind: StreamKind, type: string): readonly CompiledField[] | undefined {
  let byType = compiledSchemas.get(kind.schemas);
  if (byType === undefined) {
    byType = new Map(Object.entries(kind.schemas).map(([t, schema]) => [t, Object.entries(schema).map(([key, f]) => ({ key, check: f.check, optional: f.optional === true }))]));
    compiledSchemas.set(kind.schemas, byType);
  }
  return byType.get(type);
}

/**
 * Checks an event's data against its type's schema in a kind of stream. Throws InvalidEventError naming the field.
 * Unknown extra fields are kept (events may grow), known ones must have the right type.
 */
export function validateEventData(kind: StreamKind, type: string, data: unknown, at: EventLocation | (() => EventLocation)): void {
  const fields = fieldsOf(kind, type);
  const where = () => (typeof at === 'function' ? at() : at);
  if (fields === undefined) {
    throw new InvalidEventError(where(), `unknown ${kind.name} event type ${JSON.stringify(type)}; known: ${kind.eventTypes.join(', ')}`, 'type');
  }
  if (!isPlainObject(data)) throw new InvalidEventError(where(), `expected an object, got ${describe(data)}`, 'data');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const value = data[f.key];
    if (value === undefined && f.optional) continue;
    const problem = f.check(value);
    if (problem !== undefined) throw new InvalidEventError(where(), problem, `data.${f.key}`);
  }
}

/** Checks a device event's data (see validateEventData). */
export function validateDeviceEventData(type: string, data: unknown, at: EventLocation): void {
  validateEventData(DEVICE_STREAMS, type, data, at);
}

function kindOf(stream: unknown, at: EventLocation): StreamKind {
  const kind = typeof stream === 'string' ? streamKindOf(stream) : undefined;
  if (kind === undefined) throw new InvalidEventError(at, `expected ${STREAM_NAME_HINT}, got ${describe(stream)}`, 'stream');
  return kind;
}

/** How deep an event's metadata may nest: enough for any real use, and far from what overflows a reader's stack. */
const MAX_META_DEPTH = 32;

/** Whether `value` nests objects or arrays more than `depth` levels deep (it stops looking there). */
function nestedDeeperThan(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depth === 0) return true;
  for (const key in value) if (nestedDeeperThan((value as Record<string, unknown>)[key], depth - 1)) return true;
  return false;
}

/**
 * Validates an untrusted value as a recorded event (a line of a timeline, a row of a store).
 * Returns it typed; throws InvalidEventError naming the first field that is wrong.
 */
export function validateEvent(value: unknown, at: EventLocation = {}): HotpatchEvent {
  if (!isPlainObject(value)) throw new InvalidEventError(at, `expected a JSON object, got ${describe(value)}`);
  const { id, stream, version, type, time, data, meta, position, hash } = value;
  const kind = kindOf(stream, at);
  // Where the event is, built only when something is wrong with it.
  const where = (): EventLocation => ({ ...at, stream: stream as string, ...(typeof version === 'number' ? { version } : {}) });
  if (typeof id !== 'string' || !isLowerUuid(id)) throw new InvalidEventError(where(), `expected a lower-case UUID, got ${describe(id)}`, 'id');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new InvalidEventError(where(), `expected an integer ≥ 1, got ${describe(version)}`, 'version');
  }
  if (typeof type !== 'string') throw new InvalidEventError(where(), `expected a string, got ${describe(type)}`, 'type');
  if (!isIsoUtc(time)) throw new InvalidEventError(where(), `expected an ISO-8601 UTC time like 2026-01-13T09:00:00.000Z, got ${describe(time)}`, 'time');
  validateEventData(kind, type, data, where);
  if (meta !== undefined && !isPlainObject(meta)) throw new InvalidEventError(where(), `expected an object, got ${describe(meta)}`, 'meta');
  if (meta !== undefined && nestedDeeperThan(meta, MAX_META_DEPTH)) throw new InvalidEventError(where(), `nested deeper than ${MAX_META_DEPTH} levels`, 'meta');
  if (position !== undefined && (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 1)) {
    throw new InvalidEventError(where(), `expected an integer ≥ 1, got ${describe(position)}`, 'position');
  }
  if (hash !== undefined && (typeof hash !== 'string' || !SHA256_HEX.test(hash))) {
    throw new InvalidEventError(where(), `expected 64 lowercase hex digits, got ${describe(hash)}`, 'hash');
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
    throw new InvalidEventError(at, `expected a lower-case UUID, got ${describe(event.id)}`, 'id');
  }
  if (typeof event.type !== 'string') throw new InvalidEventError(at, `expected a string, got ${describe(event.type)}`, 'type');
  if (!isIsoUtc(event.time)) throw new InvalidEventError(at, `expected an ISO-8601 UTC time, got ${describe(event.time)}`, 'time');
  validateEventData(kindOf(at.stream, at), event.type, event.data, at);
  if (event.meta !== undefined && !isPlainObject(event.meta)) throw new InvalidEventError(at, `expected an object, got ${describe(event.meta)}`, 'meta');
}

export type { EventEnvelope };
