/**
 * Kinds of stream on the one log: a device's lifecycle (`device/<id>`), a rollout's (`rollout/<id>`), a ring's
 * pauses (`ring/<name>`) — each also under a named tenant's prefix (`tenant/<tenant>/…`) —, a service token's
 * (`token/<tokenId>`) and the service's seals (`seal/<name>`). A stream's kind, read from its name, decides which
 * events it may hold and which machine judges them — for validation, for the stores' checks before writing, and for
 * replay.
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
import { TOKEN_EVENT_DATA, TOKEN_EVENT_TYPES } from './token/events.js';
import { tokenLifecycle } from './token/lifecycle.js';
import { SEAL_EVENT_DATA, SEAL_EVENT_TYPES } from './seal/events.js';
import { sealLifecycle } from './seal/lifecycle.js';

export type AnyLifecycle = CompiledLifecycle<string, object, { readonly type: string }>;

export interface StreamKind {
  readonly name: StreamKindName;
  readonly prefix: string;
  readonly eventTypes: readonly string[];
  /** Each event type's data schema. */
  readonly data: Readonly<Record<string, TSchema>>;
  readonly lifecycle: AnyLifecycle;
}

/** A kind of stream: its name (and so its prefix), its event types with their data schemas, its lifecycle. */
const streamKind = (name: StreamKindName, eventTypes: readonly string[], data: Readonly<Record<string, TSchema>>, lifecycle: unknown): StreamKind => ({
  name,
  prefix: streamPrefix(name),
  eventTypes,
  data,
  lifecycle: lifecycle as AnyLifecycle,
});

export const DEVICE_STREAMS = streamKind('device', DEVICE_EVENT_TYPES, DEVICE_EVENT_DATA, deviceLifecycle);
export const ROLLOUT_STREAMS = streamKind('rollout', ROLLOUT_EVENT_TYPES, ROLLOUT_EVENT_DATA, rolloutLifecycle);
export const RING_STREAMS = streamKind('ring', RING_EVENT_TYPES, RING_EVENT_DATA, ringLifecycle);
/** A service token: issued with its role and scope (the secret's hash only), then perhaps revoked. */
export const TOKEN_STREAMS = streamKind('token', TOKEN_EVENT_TYPES, TOKEN_EVENT_DATA, tokenLifecycle);
/** The service's seals of the log (`seal/<name>`): signed digests of every stream's head. */
export const SEAL_STREAMS = streamKind('seal', SEAL_EVENT_TYPES, SEAL_EVENT_DATA, sealLifecycle);

export const STREAM_KINDS: readonly StreamKind[] = [DEVICE_STREAMS, ROLLOUT_STREAMS, RING_STREAMS, TOKEN_STREAMS, SEAL_STREAMS];

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
