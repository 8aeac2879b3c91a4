/**
 * Stream names: `<kind>/<id>` — a device's lifecycle (`device/<id>`), a rollout's (`rollout/<id>`), a ring's pauses
 * (`ring/<name>`), a service token's (`token/<tokenId>`), the service's seals of the log (`seal/<name>`). The one
 * place that knows how a name is made and read.
 */
export const STREAM_KIND_NAMES = ['device', 'rollout', 'ring', 'token', 'seal'] as const;
export type StreamKindName = (typeof STREAM_KIND_NAMES)[number];

const PREFIX: Readonly<Record<StreamKindName, string>> = { device: 'device/', rollout: 'rollout/', ring: 'ring/', token: 'token/', seal: 'seal/' };

/** What every stream name of a kind begins with. */
export const streamPrefix = (kind: StreamKindName): string => PREFIX[kind];

export function toStreamName(kind: StreamKindName, id: string): string {
  return PREFIX[kind] + id;
}

/** The kind and id of a stream name; undefined when it is not `<kind>/<id>` of a known kind with an id. */
export function fromStreamName(stream: string): { readonly kind: StreamKindName; readonly id: string } | undefined {
  for (const kind of STREAM_KIND_NAMES) {
    const id = idOfStream(kind, stream);
    if (id !== undefined) return { kind, id };
  }
  return undefined;
}

/** The id of a stream of this kind; undefined for a stream of another kind (or with no id). */
export function idOfStream(kind: StreamKindName, stream: string): string | undefined {
  const prefix = PREFIX[kind];
  return stream.length > prefix.length && stream.startsWith(prefix) ? stream.slice(prefix.length) : undefined;
}

export const deviceStream = (id: string): string => PREFIX.device + id;
export const rolloutStream = (id: string): string => PREFIX.rollout + id;
export const ringStream = (name: string): string => PREFIX.ring + name;
export const tokenStream = (id: string): string => PREFIX.token + id;
/** A seal stream of the service (`seal/log`): service-level, never a tenant's. */
export const sealStream = (name: string): string => PREFIX.seal + name;
/** The device id of a `device/<id>` stream, or undefined for another kind of stream. */
export const deviceIdOf = (stream: string): string | undefined => idOfStream('device', stream);
