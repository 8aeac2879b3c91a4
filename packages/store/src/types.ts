import type { DeviceEvent } from '@hotpatch/core';

/**
 * What the writer expects the stream's version to be: any; no events yet; at least one event; or exactly n
 * events (0 is the same as 'no_stream').
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

/** An event to append: the store assigns stream, version and position (and, where it keeps them, hashes). */
export interface NewEvent {
  /** A UUID; generated (v7) when missing. Re-appending an id the stream holds is a no-op. */
  readonly id?: string;
  readonly type: string;
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly data: unknown;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** An event as a store returns it: the timeline envelope with its global position. */
export type RecordedEvent = DeviceEvent & { readonly position: number };

export interface AppendOptions {
  readonly expectedVersion?: ExpectedVersion;
}

export interface AppendResult {
  readonly stream: string;
  /** The stream's version after the append (the version of its last event). */
  readonly nextExpectedVersion: number;
  /** The global positions of the appended events, in order. */
  readonly positions: readonly number[];
  /** The versions of the appended events, in order. */
  readonly versions: readonly number[];
  /** False when every event was already in the stream (a retry): nothing was written. */
  readonly written: boolean;
}

export interface ReadStreamOptions {
  /** First version to read (inclusive, default 1). */
  readonly fromVersion?: number;
  /** Last version to read (inclusive, default the end). */
  readonly toVersion?: number;
  readonly limit?: number;
}

export interface ReadAllOptions {
  /** First global position to read (inclusive, default 1). */
  readonly fromPosition?: number;
  /** At most this many events (default: all). */
  readonly limit?: number;
}

/**
 * The event store: the only source of truth. Appends are all-or-nothing per call, versions are checked, event ids
 * are unique per stream (re-appending is a no-op), and every event has a global position in commit order.
 */
export interface EventStore {
  appendToStream(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** The stream's current version; 0 when it has no events. */
  streamVersion(stream: string): Promise<number>;
  close(): Promise<void>;
}
