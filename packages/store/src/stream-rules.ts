/**
 * What a store checks before it writes, whatever engine is behind it: the envelope and data of each event, ids
 * unique within the batch, the expected version, and that the lifecycle accepts each event in turn.
 */
import { checkId, checkTenant, fromStreamName, TENANT_STREAM_PREFIX, quoteId, InvalidEventError, lifecycleFor, STREAM_NAME_HINT, validateNewEventFields, type MachineState } from '@hotpatch/core';
import { DuplicateEventIdError, EventIdReusedError, EventIdTakenError, IdempotencyConflictError, InvalidConsumerError, InvalidProjectionError, InvalidReadOptionsError, WrongExpectedVersionError } from './errors.js';
import { canonicalJson } from './hash.js';
import type { ExpectedVersion, NewEvent } from './types.js';

/**
 * A stream name to write: `<kind>/<id>` of a known kind, or `tenant/<tenant>/<kind>/<id>` (InvalidEventError), its
 * tenant kept to the tenant rule (InvalidTenantError) and its id to the id rule (InvalidIdError).
 */
export function checkStreamName(stream: unknown): asserts stream is string {
  if (typeof stream === 'string' && stream.startsWith(TENANT_STREAM_PREFIX)) {
    const end = stream.indexOf('/', TENANT_STREAM_PREFIX.length);
    if (end > 0) checkTenant(stream.slice(TENANT_STREAM_PREFIX.length, end));
  }
  const name = typeof stream === 'string' ? fromStreamName(stream) : undefined;
  if (name === undefined) throw new InvalidEventError({}, `expected ${STREAM_NAME_HINT}, got ${typeof stream === 'string' ? quoteId(stream) : JSON.stringify(stream)}`, 'stream');
  checkId(name.kind, name.id);
}

/** Checks each event's fields and that no id repeats within the batch. */
export function checkBatch(stream: string, events: readonly NewEvent[], firstVersion: number): void {
  if (!Array.isArray(events)) throw new InvalidEventError({ stream }, 'expected an array of events', 'events');
  const ids = new Set<string>();
  events.forEach((event, i) => {
    validateNewEventFields(event, { stream, version: firstVersion + i });
    if (event.id !== undefined) {
      if (ids.has(event.id)) throw new DuplicateEventIdError(stream, event.id);
      ids.add(event.id);
    }
  });
}

export function checkExpectedVersion(stream: string, expected: ExpectedVersion, actual: number): void {
  if (typeof expected === 'number' && (!Number.isSafeInteger(expected) || expected < 0)) {
    throw new InvalidEventError({ stream }, `expected version must be 'any', 'no_stream', 'stream_exists' or an integer ≥ 0, got ${expected}`, 'expectedVersion');
  }
  if (typeof expected !== 'number' && expected !== 'any' && expected !== 'no_stream' && expected !== 'stream_exists') {
    throw new InvalidEventError({ stream }, `expected version must be 'any', 'no_stream', 'stream_exists' or an integer ≥ 0, got ${JSON.stringify(expected)}`, 'expectedVersion');
  }
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 0) ||
    (expected === 'stream_exists' && actual > 0) ||
    (typeof expected === 'number' && expected === actual);
  if (!ok) throw new WrongExpectedVersionError(stream, expected, actual);
}

/** Folds the batch through the stream's lifecycle from its state; throws TransitionRefusedError naming the event. */
export function checkTransitions(stream: string, state: MachineState<string, object>, events: readonly NewEvent[], firstVersion: number): MachineState<string, object> {
  const lifecycle = lifecycleFor(stream);
  let next = state;
  for (let i = 0; i < events.length; i++) next = lifecycle.evolve(next, events[i]!, { stream, version: firstVersion + i });
  return next;
}

/**
 * Text PostgreSQL cannot keep as it is: a NUL (refused), or a lone surrogate (not well-formed UTF-16; ES2024, in
 * Node ≥ 20; kept as U+FFFD, so as other text). Every store refuses such a name by name, and reads one as absent.
 */
export const unkept = (text: string): boolean => text.includes('\u0000') || !(text as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Checks a consumer's name before its checkpoint is saved or it subscribes (every store): a non-empty string that
 * PostgreSQL keeps as it is — a NUL there is refused raw, and a lone surrogate kept as U+FFFD would name another
 * consumer, whose checkpoint it would move.
 */
export function checkConsumerName(consumer: unknown): void {
  if (typeof consumer !== 'string' || consumer.length === 0) throw new InvalidConsumerError(consumer, 'the name must be a non-empty string');
  if (unkept(consumer)) throw new InvalidConsumerError(consumer, 'the name holds a NUL or a lone surrogate');
}

/** Checks a projection save's arguments (every store, before it writes); gives its parts. */
export function checkProjectionSave(name: unknown, position: unknown, data: unknown): readonly string[] {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidProjectionError(name, 'the name must be a non-empty string');
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) throw new InvalidProjectionError(name, `the position must be a whole number ≥ 0, got ${String(position)}`);
  // Text PostgreSQL cannot keep: a NUL (a raw refusal there) or a lone surrogate (kept as U+FFFD: another name, other
  // data). Every store refuses either, by name.
  if (unkept(name)) throw new InvalidProjectionError(name, 'the name holds a NUL or a lone surrogate');
  if (typeof data !== 'string' && (!Array.isArray(data) || data.length === 0 || !data.every((part) => typeof part === 'string'))) {
    throw new InvalidProjectionError(name, `the data must be a string or a non-empty array of strings (the projection serialised), got ${Array.isArray(data) ? 'an array of something else' : typeof data}`);
  }
  const parts = typeof data === 'string' ? [data] : [...(data as string[])];
  if (parts.some((part) => unkept(part))) throw new InvalidProjectionError(name, 'the data holds a NUL or a lone surrogate; serialise them escaped (JSON.stringify does)');
  return parts;
}

/** Where the log holds an event id (its stream and version) and what that event is (its type and data). */
export interface HeldId {
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  readonly data: unknown;
}

/**
 * What a batch's ids already in the log make of it, from where each is held (`held[i]` for `events[i]`; undefined
 * when the log holds no event with that id): 'retry' when the stream holds every one, each as the same event (same
 * type, same data: the caller returns the original result), 'new' when the log holds none. Otherwise it throws:
 * EventIdTakenError when another stream holds one (ids are unique across the log), EventIdReusedError when the
 * stream holds one as another event, IdempotencyConflictError when the stream holds some and not the others.
 * `time` and `meta` are an attempt's (when it was sent, which try), not the event's identity: not compared.
 */
export function judgeHeldIds(stream: string, events: readonly NewEvent[], held: readonly (HeldId | undefined)[]): 'retry' | 'new' {
  let own = 0;
  for (let i = 0; i < events.length; i++) {
    const h = held[i];
    if (h === undefined) continue;
    const event = events[i]!;
    if (h.stream !== stream) throw new EventIdTakenError(stream, event.id!, { stream: h.stream, version: h.version });
    if (h.type !== event.type) throw new EventIdReusedError(stream, event.id!, { version: h.version, type: h.type }, event.type, 'type');
    if (canonicalJson(h.data) !== canonicalJson(event.data)) throw new EventIdReusedError(stream, event.id!, { version: h.version, type: h.type }, event.type, 'data');
    own++;
  }
  if (own === 0) return 'new';
  if (own === events.length) return 'retry';
  throw new IdempotencyConflictError(
    stream,
    events.filter((_, i) => held[i] !== undefined).map((e) => e.id!),
    events.filter((_, i) => held[i] === undefined).map((e) => e.id ?? '(no id)'),
  );
}

/**
 * Checks a read's options the same way in every store: positions, versions and the limit are whole numbers (the
 * limit ≥ 0; 0 reads nothing), or left out. A store may then write them into SQL as they are.
 */
export function checkReadOptions(read: string, options: { readonly fromVersion?: unknown; readonly toVersion?: unknown; readonly fromPosition?: unknown; readonly limit?: unknown }): void {
  for (const option of ['fromVersion', 'toVersion', 'fromPosition'] as const) {
    const value = options[option];
    if (value !== undefined && !Number.isSafeInteger(value)) throw new InvalidReadOptionsError(read, option, value, 'a whole number');
  }
  const limit = options.limit;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && (limit as number) >= 0)) throw new InvalidReadOptionsError(read, 'limit', limit, 'a whole number ≥ 0');
}
