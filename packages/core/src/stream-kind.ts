/** The kinds of stream on the log, by name: what a stream's name begins with (`device/…`, `rollout/…`, `ring/…`). */
export const STREAM_KIND_NAMES = ['device', 'rollout', 'ring'] as const;
export type StreamKindName = (typeof STREAM_KIND_NAMES)[number];
