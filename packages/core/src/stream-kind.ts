/**
 * The kinds of stream on the log, by name: what a stream's name begins with (`device/…`, `rollout/…`, `ring/…`,
 * `token/…`, `seal/…`).
 */
export const STREAM_KIND_NAMES = ['device', 'rollout', 'ring', 'token', 'seal'] as const;
export type StreamKindName = (typeof STREAM_KIND_NAMES)[number];

/**
 * The kinds of stream a tenant's fleet holds (its devices, rollouts and rings), named under its prefix. A kind the
 * service keeps for itself (its tokens, its seals) is the log's, not a tenant's: no tenant's view holds it, and no
 * name under a tenant's prefix is of that kind.
 */
export const TENANT_KINDS: readonly StreamKindName[] = ['device', 'rollout', 'ring'];
