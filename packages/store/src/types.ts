import type { HotpatchEvent, MachineState } from '@hotpatch/core';

/**
 * What the writer expects the stream's version to be: any; no events yet; at least one event; or exactly n
 * events (0 is the same as 'no_stream').
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

/** An event to append: the store assigns stream, version and position (and, where it keeps them, hashes). */
export interface NewEvent {
  /**
   * A lower-case UUID; generated (v7) when missing. Unique across the log, and it names one event: re-appending an
   * event the stream holds (same id, type and data) is a no-op (a retry: the original result, the first attempt's
   * time and meta kept); the id with another type or data is refused (EventIdReusedError), and so is one another
   * stream holds (EventIdTakenError).
   */
  readonly id?: string;
  readonly type: string;
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly data: unknown;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** An event as a store returns it: the timeline envelope with its global position and its chain hash. */
export type RecordedEvent = HotpatchEvent & { readonly position: number; readonly hash: string };

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
  /** The events as recorded (ids, positions and hashes included), as readStream would return them. */
  readonly events: readonly RecordedEvent[];
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

/** A stream's current state (a device's or a rollout's), as `readState` builds it. */
export interface StreamStateRead {
  readonly stream: string;
  readonly version: number;
  readonly state: MachineState<string, object>;
  /** The version of the snapshot it started from (0: none, folded from the first event). */
  readonly snapshotVersion: number;
  /** How many events were folded on top of the snapshot. */
  readonly eventsFolded: number;
}

/** What a consumer does with each event. Throwing stops the consumer at that event. */
export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** Events read per batch (default 500). */
  readonly batchSize?: number;
  /** How often to look for new events once caught up, in ms (default 50). */
  readonly pollIntervalMs?: number;
}

export interface Subscription {
  readonly consumer: string;
  /** The position of the last event handled and checkpointed. */
  position(): number;
  /** Resolves once the consumer has handled every event up to `position`. Rejects if it fails first. */
  waitFor(position: number): Promise<void>;
  /** Stops after the event in hand; resolves when stopped. */
  stop(): Promise<void>;
  /** Settles when the consumer stops: resolves on stop(), rejects with ConsumerFailedError on a handler error. */
  readonly done: Promise<void>;
}

/**
 * The event store: the only source of truth. Appends are all-or-nothing per call, versions are checked, event ids
 * are unique across the log (re-appending to the stream that holds them is a no-op), and every event has a global position in commit order.
 */
/**
 * A projection's state as saved by `saveProjection`: its parts, in order (one part when it was saved as one
 * string). A large projection is saved in parts because one JavaScript string holds at most about 537 million (2^29)
 * characters (V8), and one SQLite or PostgreSQL text value at most a gigabyte.
 */
export interface SavedProjection {
  readonly position: number;
  readonly parts: readonly string[];
}

export interface EventStore {
  appendToStream(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * The stream's event with this id, or undefined when the stream holds none (an id held by another stream is not
   * this stream's). By index, not by reading the stream: a service checks whether a retried command or report was
   * recorded before without reading a long stream.
   */
  readEvent(stream: string, id: string): Promise<RecordedEvent | undefined>;
  /** The stream's current version; 0 when it has no events. */
  streamVersion(stream: string): Promise<number>;
  /**
   * A stream's state: its latest snapshot plus the events after it. A snapshot written by another version
   * of the machine definition is ignored and rebuilt from the events.
   */
  readState(stream: string): Promise<StreamStateRead>;
  /**
   * A hint, inside a batch: the batch is about to append to these streams. A store that reads a stream's head before
   * its first append there in a batch (PostgreSQL: a round trip each, one after the other) may read them all at once,
   * and take then the lock its first append would take (PostgreSQL: the log head's, so that what the batch reads
   * after it no other writer moves until it commits). Outside a batch, for no stream, or in a store without it,
   * nothing happens; it never changes what any call answers. Name only streams the batch is about to append to.
   */
  willAppend?(streams: readonly string[]): Promise<void>;
  /** A consumer's durable checkpoint: the position of the last event it handled (0: none yet). */
  readCheckpoint(consumer: string): Promise<number>;
  /** Compare-and-set: moves the checkpoint from `expected` to `next`; false (and no change) if it was not at `expected`. */
  saveCheckpoint(consumer: string, expected: number, next: number): Promise<boolean>;
  /**
   * A projection's saved state, as its owner serialised it, and the position in the log it stands for; undefined
   * when none was saved. A consumer that keeps a projection in memory loads it on start and reads only the events
   * after that position, instead of the whole log.
   */
  readProjection(name: string): Promise<SavedProjection | undefined>;
  /**
   * Saves a projection's state as of `position`. It never moves back: a save at or below the saved position changes
   * nothing and gives false (a projection is a function of the log, so whichever instance saved further is right).
   * `data` is one string or several parts (read back as they were given, in order); a save replaces every part
   * at once. Inside a batch it is part of the batch's transaction, where the store groups writes.
   */
  saveProjection(name: string, position: number, data: string | readonly string[]): Promise<boolean>;
  /**
   * Handles every event after the consumer's checkpoint, in global order, then follows new ones. At least once:
   * the checkpoint moves after the events are handled.
   */
  subscribe(consumer: string, handler: EventHandler, options?: SubscribeOptions): Subscription;
  /**
   * Runs `fn` with this store's writes grouped into one transaction, where the store can: one commit (one fsync)
   * for many appends, however many (an import of millions of events is one batch). Every append inside stays
   * all-or-nothing on its own (a refused one leaves the others), and `fn` reads its own writes. If `fn` throws, or
   * the connection is lost, nothing it wrote is kept. While it runs, this store object's other callers wait for it
   * (the batch's own calls are told apart by their async context), so that none reads its work half done. Other
   * store objects and processes read the log as last committed, and their writes wait for the batch to end, up to
   * their busy timeout (then DatabaseBusyError, nothing written). A batch inside a batch is part of it: what the
   * inner one wrote is kept or dropped with the outermost one (an inner `fn` that throws to a caller who catches it
   * and goes on leaves its writes in the batch). Stores without it run each append on its own; call it through
   * `inBatch`.
   */
  batch?<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * A batch whose writes depend on a lease: it commits only while `fence.owner` holds `fence.lease` at `fence.epoch`
   * (a fencing token), checked in the batch's transaction, which then keeps the lease from changing hands until it
   * ends. A lease lost before: LeaseLostError, nothing written. Only stores that keep leases have it (PostgreSQL,
   * see its leases); call it through `inBatch`.
   */
  fencedBatch?<T>(fence: Fence, fn: () => Promise<T>): Promise<T>;
  /**
   * Closes the store; every call after it is StoreClosedError. Every call made before it settles: the ones already
   * at the database with their result, the others (waiting for a batch, for a connection, or not yet run) with
   * StoreClosedError, a batch's calls after it too (the batch then rolls back, nothing of it kept) — never left
   * pending, never a driver's error. Resolves once they have.
   */
  close(): Promise<void>;
}

/**
 * The store's log from its start (or `fromPosition`), in global order, a page at a time (default 1,000 events: small
 * pages die young in V8's heap): it need not fit in memory. The next page is read when the caller asks for it.
 */
export async function* readLogPages(store: EventStore, options: { readonly fromPosition?: number; readonly pageSize?: number } = {}): AsyncGenerator<readonly RecordedEvent[]> {
  const pageSize = options.pageSize ?? 1_000;
  for (let position = options.fromPosition ?? 1; ; ) {
    const page = await store.readAll({ fromPosition: position, limit: pageSize });
    if (page.length === 0) return;
    yield page;
    position = page[page.length - 1]!.position + 1;
  }
}

/** The store's log event by event (see readLogPages). */
export async function* readLog(store: EventStore, options: { readonly fromPosition?: number; readonly pageSize?: number } = {}): AsyncGenerator<RecordedEvent> {
  for await (const page of readLogPages(store, options)) yield* page;
}

/** A lease held at an epoch: what a fenced batch's writes depend on (see EventStore.fencedBatch). */
export interface Fence {
  readonly lease: string;
  readonly owner: string;
  readonly epoch: number;
}

