/**
 * The in-memory event store: the reference implementation of the EventStore contract, for tests, simulations
 * and the model-based tests' fast path. Same checks as the durable stores, nothing kept across processes.
 */
import { initialStateFor, type MachineState } from '@hotpatch/core';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { v7 as uuidv7 } from 'uuid';
import { alreadyAppended, nothingAppended } from './append-results.js';
import { StoreClosedError } from './errors.js';
import { eventHash, GENESIS_HASH } from './hash.js';
import { formatEvent } from './jsonl.js';
import { verifiedHashesOf } from './verified-hashes.js';
import { uuidWords } from './uuid-words.js';
import { checkBatch, checkConsumerName, checkExpectedVersion, checkProjectionSave, checkReadOptions, checkStreamName, checkTransitions, judgeHeldIds } from './stream-rules.js';
import { createSubscription, createWakeups } from './subscription.js';
import type { AppendOptions, AppendResult, EventStore, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SavedProjection, StreamStateRead } from './types.js';

/**
 * Where a memory store keeps its events, in global order (index = position - 1). `ObjectRecords` keeps them as
 * frozen objects (fast, about a kilobyte each with their strings); `PackedRecords` keeps them as JSON text in
 * deflated pages of 64 (about a tenth of that), decoding a page when it is read.
 */
interface Records {
  readonly length: number;
  /** Adds an event; `text`, when the caller has it, is its JSON (as JSON.stringify writes it). */
  push(event: RecordedEvent, text?: string): void;
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
  push(event: RecordedEvent, text?: string) {
    this.open.push(text ?? JSON.stringify(event));
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
    return freezeParsed(JSON.parse(this.lines(Math.floor(index / PAGE))[index % PAGE]!) as RecordedEvent);
  }
  slice(from: number, to: number) {
    const out: RecordedEvent[] = [];
    for (let i = from; i < to; i++) out.push(this.get(i));
    return out;
  }
}

/**
 * Every event's id, by record index, as its four 32-bit words (`uuidWords`: an id is a lower-case UUID), 16 bytes
 * an event in chunks of 65,536 ids; and an open-addressed hash table of record indexes keyed by those words (4
 * bytes a slot, at most half full): which event holds an id, across the whole log, in one probe or a few. Ids
 * are unique across the log, not only within a stream. No string and no Map entry per event: a Map holds at most
 * 2^24 entries in V8, and a simulated fleet's log holds more events than that.
 */
class IdTable {
  private static readonly CHUNK = 65_536;
  private readonly chunks: Uint32Array[] = [];
  /** Record index + 1 of the event whose id hashes to the slot or probes past it; 0 when empty. */
  private slots = new Int32Array(1 << 12);
  private used = 0;

  /** The record index of the event with this id (any value), or -1. */
  find(id: unknown): number {
    const w = typeof id === 'string' && id.length === 36 ? uuidWords(id) : undefined;
    if (w === undefined) return -1;
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let slot = hashWords(w[0], w[1], w[2], w[3]) & mask; ; slot = (slot + 1) & mask) {
      const held = slots[slot]!;
      if (held === 0) return -1;
      if (this.matches(held - 1, w)) return held - 1;
    }
  }

  /** Records the id (as words) of the event at record `index`; the log must not hold it yet (see `find`). */
  add(index: number, w: readonly [number, number, number, number]): void {
    const chunk = Math.floor(index / IdTable.CHUNK);
    while (this.chunks.length <= chunk) this.chunks.push(new Uint32Array(4 * IdTable.CHUNK));
    this.chunks[chunk]!.set(w, 4 * (index % IdTable.CHUNK));
    if (++this.used * 2 > this.slots.length) this.grow();
    else this.place(this.slots, index, w[0], w[1], w[2], w[3]);
  }

  private matches(index: number, w: readonly number[]): boolean {
    const c = this.chunks[Math.floor(index / IdTable.CHUNK)]!;
    const at = 4 * (index % IdTable.CHUNK);
    return c[at] === w[0] && c[at + 1] === w[1] && c[at + 2] === w[2] && c[at + 3] === w[3];
  }

  private place(slots: Int32Array, index: number, a: number, b: number, c: number, d: number): void {
    const mask = slots.length - 1;
    let slot = hashWords(a, b, c, d) & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = index + 1;
  }

  /** Twice the slots, every id placed again (the last one added included). */
  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    for (let index = 0; index < this.used; index++) {
      const c = this.chunks[Math.floor(index / IdTable.CHUNK)]!;
      const at = 4 * (index % IdTable.CHUNK);
      this.place(slots, index, c[at]!, c[at + 1]!, c[at + 2]!, c[at + 3]!);
    }
    this.slots = slots;
  }
}

function hashWords(a: number, b: number, c: number, d: number): number {
  const h = Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca77) ^ Math.imul(d, 0xc2b2ae3d), 0x27d4eb2f);
  return h ^ (h >>> 15);
}

class StreamData {
  /** Record index of each of the stream's events, by version - 1. */
  readonly indexes: number[] = [];
  lastHash = GENESIS_HASH;
  constructor(public state: MachineState<string, object>) {}

  get version() {
    return this.indexes.length;
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

/** A recorded event while an append builds it: its hash is filled in before it is frozen. */
interface Building {
  id: string;
  stream: string;
  version: number;
  type: string;
  time: string;
  data: unknown;
  meta?: unknown;
  position: number;
  hash: string;
}

/**
 * Freezes, at every level, a value made of fresh plain objects, arrays and primitives (what JSON.parse returns, or a
 * literal holding such values): nothing in it is frozen or shared yet, so nothing needs asking.
 */
function freezeParsed<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) freezeParsed(value[i]);
    else for (const key of Object.keys(value)) freezeParsed((value as Record<string, unknown>)[key]);
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
  const packed = records instanceof PackedRecords;
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

      // Ids are unique across the log: a batch the stream holds, event for event, is a retry (the original result,
      // nothing written); an id another stream holds or held as another event, or a batch partly held, is refused
      // (judgeHeldIds).
      let held: (RecordedEvent | undefined)[] | undefined;
      for (let i = 0; i < events.length; i++) {
        const at = ids.find(events[i]?.id);
        if (at < 0) continue;
        held ??= new Array<RecordedEvent | undefined>(events.length).fill(undefined);
        held[i] = records.get(at);
      }
      if (held !== undefined && judgeHeldIds(stream, events, held) === 'retry') return alreadyAppended(stream, held as RecordedEvent[]);

      checkExpectedVersion(stream, appendOptions.expectedVersion ?? 'any', actual);
      checkBatch(stream, events, actual + 1);
      if (events.length === 0) return nothingAppended(stream, actual);
      const state = checkTransitions(stream, data?.state ?? initialStateFor(stream), events, actual + 1);
      // A checked run's hashes are taken as given (see VERIFIED_HASHES), once it chains from the stream's head.
      const verified = verifiedHashesOf(appendOptions, stream, events.length, data?.lastHash)?.hashes;

      // Everything is checked: from here on nothing can fail, so the batch is all or nothing.
      const target = data ?? new StreamData(state);
      if (!data) streams.set(stream, target);
      target.state = state;
      const positions: number[] = [];
      const versions: number[] = [];
      const written: RecordedEvent[] = [];
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        const version = target.version + 1;
        const position = records.length + 1;
        // Copies, through the text the hash and the packed page can use as it is.
        const data = JSON.stringify(event.data);
        const meta = event.meta !== undefined ? JSON.stringify(event.meta) : undefined;
        const id = event.id ?? newId();
        // One literal per shape (the key order JSON.stringify writes), its hash filled in before it is frozen.
        const building: Building =
          meta === undefined
            ? { id, stream, version, type: event.type, time: event.time, data: JSON.parse(data), position, hash: '' }
            : { id, stream, version, type: event.type, time: event.time, data: JSON.parse(data), meta: JSON.parse(meta), position, hash: '' };
        building.hash = verified !== undefined ? verified[i]! : eventHash(target.lastHash, building as RecordedEvent, { data, meta });
        const recorded = freezeParsed(building) as RecordedEvent;
        records.push(recorded, packed ? formatEvent(recorded, { data, meta }) : undefined);
        ids.add(position - 1, uuidWords(recorded.id)!);
        target.indexes.push(position - 1);
        target.lastHash = recorded.hash;
        written.push(recorded);
        positions.push(position);
        versions.push(version);
      }
      wakeups.wake();
      return { stream, nextExpectedVersion: target.version, positions, versions, written: true, events: written };
    },

    async readStream(stream: string, readOptions: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      open();
      checkReadOptions(`readStream ${stream}`, readOptions);
      const indexes = streams.get(stream)?.indexes ?? [];
      const from = Math.max(1, readOptions.fromVersion ?? 1);
      const to = Math.min(indexes.length, readOptions.toVersion ?? indexes.length);
      const end = readOptions.limit === undefined ? to : Math.min(to, from - 1 + readOptions.limit);
      return indexes.slice(from - 1, Math.max(from - 1, end)).map((i) => records.get(i));
    },

    async readAll(readOptions: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      open();
      checkReadOptions('readAll', readOptions);
      const from = Math.max(1, readOptions.fromPosition ?? 1);
      const end = readOptions.limit === undefined ? records.length : Math.min(records.length, from - 1 + readOptions.limit);
      return records.slice(from - 1, Math.max(from - 1, end));
    },

    async readEvent(stream: string, id: string): Promise<RecordedEvent | undefined> {
      open();
      const at = ids.find(id);
      const event = at < 0 ? undefined : records.get(at);
      return event?.stream === stream ? event : undefined;
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
      checkConsumerName(consumer);
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
