/**
 * The in-memory event store: the reference implementation of the EventStore contract, for tests, simulations
 * and the model-based tests' fast path. Same checks as the durable stores, nothing kept across processes.
 */
import { initialStateFor, type MachineState } from '@hotpatch/core';
import { v7 as uuidv7 } from 'uuid';
import { IdempotencyConflictError, StoreClosedError } from './errors.js';
import { eventHash, GENESIS_HASH } from './hash.js';
import { checkBatch, checkExpectedVersion, checkProjectionSave, checkStreamName, checkTransitions } from './stream-rules.js';
import { createSubscription, createWakeups } from './subscription.js';
import type { AppendOptions, AppendResult, EventStore, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SavedProjection, StreamStateRead } from './types.js';

interface StreamData {
  readonly events: RecordedEvent[];
  /** Event id → index in `events`. */
  readonly ids: Map<string, number>;
  state: MachineState<string, object>;
}

export interface InMemoryEventStoreOptions {
  /** Generates event ids where an event has none (default: UUID v7). */
  readonly newId?: () => string;
}

export interface InMemoryEventStore extends EventStore {
  /** Every event in global order, without copying (read-only). */
  readonly all: readonly RecordedEvent[];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

export function createInMemoryEventStore(options: InMemoryEventStoreOptions = {}): InMemoryEventStore {
  const newId = options.newId ?? uuidv7;
  const streams = new Map<string, StreamData>();
  const all: RecordedEvent[] = [];
  const checkpoints = new Map<string, number>();
  const projections = new Map<string, SavedProjection>();
  // Consumers waiting for new events are woken by the next append.
  const wakeups = createWakeups();
  let closed = false;

  const open = () => {
    if (closed) throw new StoreClosedError('in-memory event store');
  };

  return {
    all,

    async appendToStream(stream: string, events: readonly NewEvent[], appendOptions: AppendOptions = {}): Promise<AppendResult> {
      open();
      checkStreamName(stream);
      const data = streams.get(stream);
      const actual = data?.events.length ?? 0;

      // A retry of a batch the stream already holds returns the original result and writes nothing.
      if (data && events.length > 0) {
        const held = events.filter((e) => e.id !== undefined && data.ids.has(e.id));
        if (held.length === events.length) {
          const recorded = held.map((e) => data.events[data.ids.get(e.id!)!]!);
          return {
            stream,
            nextExpectedVersion: recorded[recorded.length - 1]!.version,
            positions: recorded.map((e) => e.position),
            versions: recorded.map((e) => e.version),
            written: false,
            events: recorded,
          };
        }
        if (held.length > 0) {
          const heldIds = held.map((e) => e.id!);
          throw new IdempotencyConflictError(stream, heldIds, events.filter((e) => !heldIds.includes(e.id!)).map((e) => e.id ?? '(no id)'));
        }
      }

      checkExpectedVersion(stream, appendOptions.expectedVersion ?? 'any', actual);
      checkBatch(stream, events, actual + 1);
      if (events.length === 0) return { stream, nextExpectedVersion: actual, positions: [], versions: [], written: false, events: [] };
      const state = checkTransitions(stream, data?.state ?? initialStateFor(stream), events, actual + 1);

      // Everything is checked: from here on nothing can fail, so the batch is all or nothing.
      const target = data ?? { events: [], ids: new Map<string, number>(), state };
      if (!data) streams.set(stream, target);
      target.state = state;
      const positions: number[] = [];
      const versions: number[] = [];
      const written: RecordedEvent[] = [];
      let prev = target.events[target.events.length - 1]?.hash ?? GENESIS_HASH;
      for (const event of events) {
        const version = target.events.length + 1;
        const position = all.length + 1;
        const fields = {
          id: event.id ?? newId(),
          stream,
          version,
          type: event.type,
          time: event.time,
          data: JSON.parse(JSON.stringify(event.data)),
          ...(event.meta !== undefined ? { meta: JSON.parse(JSON.stringify(event.meta)) } : {}),
        };
        prev = eventHash(prev, fields);
        const recorded = deepFreeze({ ...fields, position, hash: prev }) as RecordedEvent;
        target.ids.set(recorded.id, target.events.length);
        target.events.push(recorded);
        all.push(recorded);
        written.push(recorded);
        positions.push(position);
        versions.push(version);
      }
      wakeups.wake();
      return { stream, nextExpectedVersion: target.events.length, positions, versions, written: true, events: written };
    },

    async readStream(stream: string, readOptions: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      open();
      const events = streams.get(stream)?.events ?? [];
      const from = Math.max(1, readOptions.fromVersion ?? 1);
      const to = Math.min(events.length, readOptions.toVersion ?? events.length);
      const end = readOptions.limit === undefined ? to : Math.min(to, from - 1 + readOptions.limit);
      return events.slice(from - 1, Math.max(from - 1, end));
    },

    async readAll(readOptions: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      open();
      const from = Math.max(1, readOptions.fromPosition ?? 1);
      const end = readOptions.limit === undefined ? all.length : Math.min(all.length, from - 1 + readOptions.limit);
      return all.slice(from - 1, Math.max(from - 1, end));
    },

    async streamVersion(stream: string): Promise<number> {
      open();
      return streams.get(stream)?.events.length ?? 0;
    },

    async readState(stream: string): Promise<StreamStateRead> {
      open();
      const data = streams.get(stream);
      const version = data?.events.length ?? 0;
      // The state kept beside the stream is its snapshot, always current.
      return { stream, version, state: data?.state ?? initialStateFor(stream), snapshotVersion: version, eventsFolded: 0 };
    },

    async readCheckpoint(consumer: string): Promise<number> {
      open();
      return checkpoints.get(consumer) ?? 0;
    },

    async saveCheckpoint(consumer: string, expected: number, next: number): Promise<boolean> {
      open();
      if ((checkpoints.get(consumer) ?? 0) !== expected) return false;
      checkpoints.set(consumer, next);
      return true;
    },

    async readProjection(name: string) {
      open();
      return projections.get(name);
    },

    async saveProjection(name: string, position: number, data: string) {
      open();
      checkProjectionSave(name, position, data);
      if ((projections.get(name)?.position ?? -1) >= position) return false;
      projections.set(name, { position, data });
      return true;
    },

    subscribe(consumer, handler, subscribeOptions) {
      return createSubscription(this, consumer, handler, subscribeOptions, { waitForNews: wakeups.waitForNews });
    },

    async close(): Promise<void> {
      closed = true;
      wakeups.wake();
    },
  };
}
