/**
 * Kinds of stream on the one log: a device's lifecycle (`device/<id>`), a rollout's (`rollout/<id>`) and a ring's
 * pauses (`ring/<name>`), each also under a named tenant's prefix (`tenant/<tenant>/…`). A stream's kind, read from its name, decides which events it may hold and which machine
 * judges them — for validation, for the stores' checks before writing, and for replay.
 */
import type { CompiledLifecycle, MachineState } from './evolve.js';
import type { TSchema } from 'typebox';
import { DEVICE_EVENT_DATA, DEVICE_EVENT_TYPES } from './device/events.js';
import { fromStreamName, streamPrefix, TENANT_STREAM_PREFIX, type StreamKindName } from './stream-name.js';
import { deviceLifecycle } from './device/lifecycle.js';
import { ROLLOUT_EVENT_DATA, ROLLOUT_EVENT_TYPES } from './rollout/events.js';
import { rolloutLifecycle } from './rollout/lifecycle.js';
import { RING_EVENT_DATA, RING_EVENT_TYPES } from './ring/events.js';
import { ringLifecycle } from './ring/lifecycle.js';

export type AnyLifecycle = CompiledLifecycle<string, object, { readonly type: string }>;

export interface StreamKind {
  readonly name: StreamKindName;
  readonly prefix: string;
  readonly eventTypes: readonly string[];
  /** Each event type's data schema. */
  readonly data: Readonly<Record<string, TSchema>>;
  readonly lifecycle: AnyLifecycle;
}

export const DEVICE_STREAMS: StreamKind = {
  name: 'device',
  prefix: streamPrefix('device'),
  eventTypes: DEVICE_EVENT_TYPES,
  data: DEVICE_EVENT_DATA,
  lifecycle: deviceLifecycle as unknown as AnyLifecycle,
};

export const ROLLOUT_STREAMS: StreamKind = {
  name: 'rollout',
  prefix: streamPrefix('rollout'),
  eventTypes: ROLLOUT_EVENT_TYPES,
  data: ROLLOUT_EVENT_DATA,
  lifecycle: rolloutLifecycle as unknown as AnyLifecycle,
};

export const RING_STREAMS: StreamKind = {
  name: 'ring',
  prefix: streamPrefix('ring'),
  eventTypes: RING_EVENT_TYPES,
  data: RING_EVENT_DATA,
  lifecycle: ringLifecycle as unknown as AnyLifecycle,
};

export const STREAM_KINDS: readonly StreamKind[] = [DEVICE_STREAMS, ROLLOUT_STREAMS, RING_STREAMS];

const KIND_BY_NAME = new Map(STREAM_KINDS.map((k) => [k.name, k]));

/**
 * The kind of a stream, or undefined when its name is not `<kind>/<id>` of a known kind, for the default tenant or
 * (`tenant/<tenant>/<kind>/<id>`) a named one.
 */
export function streamKindOf(stream: string): StreamKind | undefined {
  for (const kind of STREAM_KINDS) if (stream.startsWith(kind.prefix) && stream.length > kind.prefix.length) return kind;
  if (!stream.startsWith(TENANT_STREAM_PREFIX)) return undefined;
  const name = fromStreamName(stream);
  return name === undefined ? undefined : KIND_BY_NAME.get(name.kind);
}

/** The lifecycle that judges a stream's events (the device lifecycle for an unknown kind, which validation refuses first). */
export function lifecycleFor(stream: string): AnyLifecycle {
  return (streamKindOf(stream) ?? DEVICE_STREAMS).lifecycle;
}

/** The state of a stream with no events. */
export function initialStateFor(stream: string): MachineState<string, object> {
  return lifecycleFor(stream).initial;
}

export const STREAM_NAME_HINT = STREAM_KINDS.map((k) => `"${k.prefix}<id>"`).join(' or ');
