/**
 * What a store checks before it writes, whatever engine is behind it: the envelope and data of each event, ids
 * unique within the batch, the expected version, and that the lifecycle accepts each event in turn.
 */
import {
  deviceLifecycle,
  InvalidEventError,
  validateNewEventFields,
  DEVICE_STREAM_PREFIX,
  type DeviceEventBody,
  type DeviceState,
} from '@hotpatch/core';
import { DuplicateEventIdError, WrongExpectedVersionError } from './errors.js';
import type { ExpectedVersion, NewEvent } from './types.js';

export function checkStreamName(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || !stream.startsWith(DEVICE_STREAM_PREFIX) || stream.length === DEVICE_STREAM_PREFIX.length) {
    throw new InvalidEventError({}, `expected "device/<deviceId>", got ${JSON.stringify(stream)}`, 'stream');
  }
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

/** Folds the batch through the lifecycle from the stream's state; throws TransitionRefusedError naming the event. */
export function checkTransitions(stream: string, state: DeviceState, events: readonly NewEvent[], firstVersion: number): DeviceState {
  let next = state;
  for (let i = 0; i < events.length; i++) {
    next = deviceLifecycle.evolve(next, events[i] as DeviceEventBody, { stream, version: firstVersion + i }) as DeviceState;
  }
  return next;
}
