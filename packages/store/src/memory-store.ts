/**
 * The in-memory event store: the reference implementation of the EventStore contract, for tests, simulations
 * and the model-based tests' fast path. Same checks as the durable stores, nothing kept across processes.
 */
import { initialStateFor, type MachineState } from '@hotpatch/core';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { v7 as uuidv7 } from 'uuid';
import { IdempotencyConflictError, StoreClosedError } from './errors.js';
import { eventHash, GENESIS_HASH } from './hash.js';
import { uuidWords } from './uuid-words.js';
import { checkBatch, checkExpectedVersion, checkProjectionSave, checkStreamName, checkTransitions } from './stream-rules.js';
import { createSubscription, createWakeups } from './subscription.js';
import type { AppendOptions, AppendResult, EventStore, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SavedProjection, StreamStateRead } from './types.js';

/**
 * Where a memory store keeps its events, in global order (index = position - 1). `ObjectRecords` keeps them as
 * frozen objects (fast, about a kilobyte each with their strings); `PackedRecords` keeps them as JSON text in
 * deflated pages of 64 (about a tenth of that), decoding a page when it is read.
 */
interface Records {
  readonly length: number;
  push(event: RecordedEvent): void;
  get(index: number): RecordedEvent;
  slice(from: number, to: number): RecordedEvent[];
}

class ObjectRecords implements Records {
  readonly events: RecordedEvent[] = [];
  get length() {
    return this.events.length;
  }
  push(event: RecordedEvent) {
    this.events.push(event);
  }
  get(index: number) {
    return this.events[index]!;
  }
  slice(from: number, to: number) {
    return this.events.slice(from, to);
  }
}

/**
 * Events per deflated page. Deflate's window is 32 KB, so larger pages hardly pack better (a simulated log: 82
 * bytes an event in pages of 64, 79 in pages of 1,024), while reading one event decodes its whole page.
 */
const PAGE = 64;
/** How many decoded pages a packed store keeps (most reads are sequential: readAll page after page). */
const DECODED_PAGES = 64;

class PackedRecords implements Records {
  private readonly pages: Buffer[] = [];
  private open: string[] = [];
  private readonly decoded = new Map<number, string[]>();
  length = 0;
  /** Bytes held by the deflated pages. */
  packedBytes = 0;
  push(event: RecordedEvent) {
    this.open.push(JSON.stringify(event));
    this.length++;
    if (this.open.length === PAGE) {
      const deflated = deflateRawSync(this.open.join('\n'), { level: 1 });
      // zlib hands back a view of its 16 KB output chunk: kept as it is, a 5 KB page would hold all 16 KB.
      const page = Buffer.allocUnsafeSlow(deflated.length);
      deflated.copy(page);
      this.pages.push(page);
      this.packedBytes += page.length;
      this.open = [];
    }
  }
  private lines(page: number): string[] {
    if (page === this.pages.length) return this.open;
    let lines = this.decoded.get(page);
    if (lines === undefined) {
      lines = inflateRawSync(this.pages[page]!).toString('utf8').split('\n');
      if (this.decoded.size >= DECODED_PAGES) this.decoded.delete(this.decoded.keys().next().value!);
      this.decoded.set(page, lines);
    }
    return lines;
  }
  get(index: number) {
    return deepFreeze(JSON.parse(this.lines(Math.floor(index / PAGE))[index % PAGE]!) as RecordedEvent);
  }
  slice(from: number, to: number) {
    const out: RecordedEvent[] = [];
    for (let i = from; i < to; i++) out.push(this.get(i));
    return out;
  }
}

/**
 * Every event's id, by record index, as its four 32-bit words (`uuidWords`: an id is a lower-case UUID): 16 bytes
 * an event, in chunks of 65,536 ids, instead of a string and a map entry per event. An id that is not a UUID has
 * no words, and no stored id can equal it.
 */
class IdTable {
  private static readonly CHUNK = 65_536;
  private readonly chunks: Uint32Array[] = [];

  set(index: number, w: readonly number[]) {
    const chunk = Math.floor(index / IdTable.CHUNK);
    while (this.chunks.length <= chunk) this.chunks.push(new Uint32Array(4 * IdTable.CHUNK));
    this.chunks[chunk]!.set(w, 4 * (index % IdTable.CHUNK));
  }

  lastWord(index: number): number {
    return this.chunks[Math.floor(index / IdTable.CHUNK)]![4 * (index % IdTable.CHUNK) + 3]!;
  }

  matches(index: number, w: readonly number[]): boolean {
    const c = this.chunks[Math.floor(index / IdTable.CHUNK)]!;
    const at = 4 * (index % IdTable.CHUNK);
    return c[at] === w[0] && c[at + 1] === w[1] && c[at + 2] === w[2] && c[at + 3] === w[3];
  }
}

/** Streams longer than this index their ids in a map (by their last word); shorter ones are scanned. */
const SCAN_IDS = 32;

class StreamData {
  /** Record index of each of the stream's events, by version - 1. */
  readonly indexes: number[] = [];
  /**
   * For long streams: an id's last word (as a signed 32-bit integer, which V8 keeps unboxed) → the version - 1
   * whose id ends with it, or the list of them when several do. A rollout stream holds an event per device.
   */
  private byWord: Map<number, number | number[]> | undefined;
  lastHash = GENESIS_HASH;
  constructor(public state: MachineState<string, object>) {}

  get version() {
    return this.indexes.length;
  }

  add(index: number, w: readonly number[], hash: string, ids: IdTable) {
    this.indexes.push(index);
    this.lastHash = hash;
    if (this.byWord !== undefined) this.index(w[3]!, this.indexes.length - 1);
    else if (this.indexes.length > SCAN_IDS) {
      this.byWord = new Map();
      this.indexes.forEach((recordIndex, at) => this.index(ids.lastWord(recordIndex), at));
    }
  }

  private index(word: number, at: number) {
    const key = word | 0;
    const held = this.byWord!.get(key);
    if (held === undefined) this.byWord!.set(key, at);
    else if (typeof held === 'number') this.byWord!.set(key, [held, at]);
    else held.push(at);
  }

  /** The version - 1 of the stream's event with this id (any string), or -1. */
  findId(id: unknown, ids: IdTable): number {
    const w = typeof id === 'string' && id.length === 36 ? uuidWords(id) : undefined;
    return w === undefined ? -1 : this.find(w, ids);
  }

  /** The version - 1 of the stream's event with this id (as its words), or -1. */
  private find(w: readonly number[], ids: IdTable): number {
    if (this.byWord !== undefined) {
      const held = this.byWord.get(w[3]! | 0);
      if (held === undefined) return -1;
      if (typeof held === 'number') return ids.matches(this.indexes[held]!, w) ? held : -1;
      for (const at of held) if (ids.matches(this.indexes[at]!, w)) return at;
      return -1;
    }
    for (let at = 0; at < this.indexes.length; at++) if (ids.matches(this.indexes[at]!, w)) return at;
    return -1;
  }
}

export interface InMemoryEventStoreOptions {
  /** Generates event ids where an event has none (default: UUID v7). */
  readonly newId?: () => string;
}

export interface InMemoryEventStore extends EventStore {
  /** Every event in global order, without copying (read-only). */
  readonly all: readonly RecordedEvent[];
}

/** A memory store that keeps its events packed: see createPackedInMemoryEventStore. */
export interface PackedInMemoryEventStore extends EventStore {
  /** How many events it holds, and the bytes their deflated pages take. */
  size(): { readonly events: number; readonly packedBytes: number };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** The in-memory store, events kept as frozen objects (`all` gives them without copying). */
export function createInMemoryEventStore(options: InMemoryEventStoreOptions = {}): InMemoryEventStore {
  const records = new ObjectRecords();
  return { ...memoryStore(records, options), all: records.events };
}

/**
 * The in-memory store for logs too large to keep as objects (a simulation of a million devices): each event is
 * kept as its JSON text in deflated pages of 64 events, about 80 bytes an event instead of about a kilobyte.
 * Appends cost a little more (the text is written and deflated once), reads decode a page (64 decoded pages
 * are kept), and each read gives a new frozen object. Same contract and conformance suite as the other stores.
 */
export function createPackedInMemoryEventStore(options: InMemoryEventStoreOptions = {}): PackedInMemoryEventStore {
  const records = new PackedRecords();
  return { ...memoryStore(records, options), size: () => ({ events: records.length, packedBytes: records.packedBytes }) };
}

function memoryStore(records: Records, options: InMemoryEventStoreOptions): EventStore {
  const newId = options.newId ?? uuidv7;
  const streams = new Map<string, StreamData>();
  const ids = new IdTable();
  const checkpoints = new Map<string, number>();
  const projections = new Map<string, SavedProjection>();
  // Consumers waiting for new events are woken by the next append.
  const wakeups = createWakeups();
  let closed = false;

  const open = () => {
    if (closed) throw new StoreClosedError('in-memory event store');
  };

  return {
    async appendToStream(stream: string, events: readonly NewEvent[], appendOptions: AppendOptions = {}): Promise<AppendResult> {
      open();
      checkStreamName(stream);
      const data = streams.get(stream);
      const actual = data?.version ?? 0;

      // A retry of a batch the stream already holds returns the original result and writes nothing.
      if (data && events.length > 0) {
        const held: RecordedEvent[] = [];
        const heldIds: string[] = [];
        for (const e of events) {
          const at = data.findId(e.id, ids);
          if (at >= 0) {
            held.push(records.get(data.indexes[at]!));
            heldIds.push(e.id!);
          }
        }
        if (held.length === events.length) {
          return {
            stream,
            nextExpectedVersion: held[held.length - 1]!.version,
            positions: held.map((e) => e.position),
            versions: held.map((e) => e.version),
            written: false,
            events: held,
          };
        }
        if (held.length > 0) throw new IdempotencyConflictError(stream, heldIds, events.filter((e) => !heldIds.includes(e.id!)).map((e) => e.id ?? '(no id)'));
      }

      checkExpectedVersion(stream, appendOptions.expectedVersion ?? 'any', actual);
      checkBatch(stream, events, actual + 1);
      if (events.length === 0) return { stream, nextExpectedVersion: actual, positions: [], versions: [], written: false, events: [] };
      const state = checkTransitions(stream, data?.state ?? initialStateFor(stream), events, actual + 1);

      // Everything is checked: from here on nothing can fail, so the batch is all or nothing.
      const target = data ?? new StreamData(state);
      if (!data) streams.set(stream, target);
      target.state = state;
      const positions: number[] = [];
      const versions: number[] = [];
      const written: RecordedEvent[] = [];
      for (const event of events) {
        const version = target.version + 1;
        const position = records.length + 1;
        const fields = {
          id: event.id ?? newId(),
          stream,
          version,
          type: event.type,
          time: event.time,
          data: JSON.parse(JSON.stringify(event.data)),
          ...(event.meta !== undefined ? { meta: JSON.parse(JSON.stringify(event.meta)) } : {}),
        };
        const hash = eventHash(target.lastHash, fields);
        const recorded = deepFreeze({ ...fields, position, hash }) as RecordedEvent;
        const w = uuidWords(recorded.id)!;
        records.push(recorded);
        ids.set(position - 1, w);
        target.add(position - 1, w, hash, ids);
        written.push(recorded);
        positions.push(position);
        versions.push(version);
      }
      wakeups.wake();
      return { stream, nextExpectedVersion: target.version, positions, versions, written: true, events: written };
    },

    async readStream(stream: string, readOptions: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      open();
      const indexes = streams.get(stream)?.indexes ?? [];
      const from = Math.max(1, readOptions.fromVersion ?? 1);
      const to = Math.min(indexes.length, readOptions.toVersion ?? indexes.length);
      const end = readOptions.limit === undefined ? to : Math.min(to, from - 1 + readOptions.limit);
      return indexes.slice(from - 1, Math.max(from - 1, end)).map((i) => records.get(i));
    },

    async readAll(readOptions: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      open();
      const from = Math.max(1, readOptions.fromPosition ?? 1);
      const end = readOptions.limit === undefined ? records.length : Math.min(records.length, from - 1 + readOptions.limit);
      return records.slice(from - 1, Math.max(from - 1, end));
    },

    async readEvent(stream: string, id: string): Promise<RecordedEvent | undefined> {
      open();
      const data = streams.get(stream);
      const at = data === undefined ? -1 : data.findId(id, ids);
      return at < 0 ? undefined : records.get(data!.indexes[at]!);
    },

    async streamVersion(stream: string): Promise<number> {
      open();
      return streams.get(stream)?.version ?? 0;
    },

    async readState(stream: string): Promise<StreamStateRead> {
      open();
      const data = streams.get(stream);
      const version = data?.version ?? 0;
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

    async saveProjection(name: string, position: number, data: string | readonly string[]) {
      open();
      const parts = checkProjectionSave(name, position, data);
      if ((projections.get(name)?.position ?? -1) >= position) return false;
      projections.set(name, { position, parts });
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
