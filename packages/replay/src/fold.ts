/**
 * Folding a timeline into device states, checking as it goes what a log must satisfy: versions contiguous per
 * stream, ids unique, hashes chained, every transition accepted by the lifecycle. One fold serves replay, history
 * and verify — over events in memory (`foldTimeline`) or straight from a file (`foldFile`), which parses, validates
 * and folds line by line without holding the events.
 */
import {
  DEVICE_STREAMS,
  HotpatchError,
  InvalidEventError,
  streamKindOf,
  type AnyLifecycle,
  type EventLocation,
  type HotpatchEvent,
  type MachineState,
} from '@hotpatch/core';
import { stat } from 'node:fs/promises';
import { eventHash, GENESIS_HASH, parseEventLine, readLineBatches } from '@hotpatch/store';
import { foldInShards, shardsAvailable } from './fold-shards.js';
import type { StreamState } from './device-view.js';
import { IdIndex } from './id-index.js';

/** Where to stop: after the last event, after the last event at or before a time, or after a position. */
export type ReplayPoint = { readonly kind: 'end' } | { readonly kind: 'time'; readonly time: string } | { readonly kind: 'position'; readonly position: number };

export interface FoldInput {
  readonly events: readonly HotpatchEvent[];
  /** Line number of each event (for messages, and the position of events that carry none). */
  readonly lines?: readonly number[];
  readonly file?: string;
}

export interface FoldOptions {
  readonly until?: ReplayPoint;
  /** Only fold this stream (other streams are still checked for ids). */
  readonly stream?: string;
  /** Called after every folded event with the state before and after (`line`: its line, folding a file). */
  readonly onStep?: (event: HotpatchEvent, before: StreamState | undefined, after: StreamState, index: number, line: number | undefined) => void;
  /** Collect problems and go on, instead of throwing the first. */
  readonly collectProblems?: boolean;
  /** The lifecycle to fold device streams with (default: the one the library runs); other kinds use their own. */
  readonly lifecycle?: Pick<AnyLifecycle, 'next' | 'refusal' | 'initial'>;
  /**
   * Whether to check that ids are unique (default true). A shard of a parallel fold turns it off: the shards check
   * every id of the file between them, shared out by id rather than by stream.
   */
  readonly checkIds?: boolean;
}

export interface FoldResult {
  readonly streams: Map<string, StreamState>;
  readonly problems: HotpatchError[];
  readonly folded: number;
  /** Whether the log went on past the replay point (an event after it was read). */
  readonly pastPoint?: boolean;
}

/** The position of an event: its `position` field, or else its line number (or index + 1). */
export function positionOf(input: FoldInput, index: number): number {
  return input.events[index]!.position ?? input.lines?.[index] ?? index + 1;
}

/**
 * A fold in progress: events go in one at a time with their line (or index), in log order. `add` says false once
 * the replay point is passed, so that a reader can stop reading.
 */
export class TimelineFold {
  readonly streams = new Map<string, StreamState>();
  readonly problems: HotpatchError[] = [];
  folded = 0;
  /** Set once an event past the replay point was read. */
  pastPoint = false;
  /** Where each id was first seen (a line, or an index when there are no lines). */
  private readonly seenIds = new IdIndex(1 << 16);
  private readonly checkIds: boolean;
  private readonly untilTime: number;
  private readonly untilPosition: number;
  /** Streams that reached an event after the time asked for: the rest of each is after it too. */
  private readonly pastTime = new Set<string>();
  private lastPosition = 0;
  private index = 0;
  private readonly deviceLifecycle: Pick<AnyLifecycle, 'next' | 'refusal' | 'initial'> | undefined;

  constructor(
    private readonly options: FoldOptions = {},
    private readonly file?: string,
  ) {
    const until = options.until ?? { kind: 'end' };
    this.untilTime = until.kind === 'time' ? Date.parse(until.time) : Number.POSITIVE_INFINITY;
    this.untilPosition = until.kind === 'position' ? until.position : Number.POSITIVE_INFINITY;
    this.deviceLifecycle = options.lifecycle;
    this.checkIds = options.checkIds ?? true;
  }

  /** Where an event is, built only when something is wrong with it (most events are fine). */
  private locate(event: HotpatchEvent, line: number | undefined): EventLocation {
    return {
      ...(this.file !== undefined ? { file: this.file } : {}),
      ...(line !== undefined ? { line } : event.position !== undefined ? { position: event.position } : {}),
      stream: event.stream,
      version: event.version,
    };
  }

  private fail(error: HotpatchError): void {
    if (!this.options.collectProblems) throw error;
    this.problems.push(error);
  }

  /** Folds the next event; `line` is its line in a file. Returns false when the event is past the replay point. */
  add(event: HotpatchEvent, line?: number): boolean {
    const index = this.index++;
    const position = event.position ?? line ?? index + 1;
    if (position > this.untilPosition) {
      this.pastPoint = true;
      return false;
    }
    if (this.untilTime !== Number.POSITIVE_INFINITY && (this.pastTime.has(event.stream) || Date.parse(event.time) > this.untilTime)) {
      this.pastTime.add(event.stream);
      return true;
    }
    if (event.position !== undefined) {
      if (event.position <= this.lastPosition) this.fail(new InvalidEventError(this.locate(event, line), `position ${event.position} does not follow ${this.lastPosition}`, 'position'));
      this.lastPosition = event.position;
    }
    const firstSeen = this.checkIds ? this.seenIds.firstOrAdd(event.id, line ?? index) : undefined;
    if (firstSeen !== undefined) {
      this.fail(new InvalidEventError(this.locate(event, line), `id ${event.id} repeats the event at ${line !== undefined ? `line ${firstSeen}` : `index ${firstSeen}`}`, 'id'));
      return true;
    }
    if (this.options.stream !== undefined && event.stream !== this.options.stream) return true;

    const before = this.streams.get(event.stream);
    const expectedVersion = before === undefined ? 1 : before.version + 1;
    if (event.version !== expectedVersion) {
      this.fail(
        new InvalidEventError(
          this.locate(event, line),
          event.version < expectedVersion
            ? `version ${event.version} repeats; the stream is at ${expectedVersion - 1} (an event inserted, duplicated or moved?)`
            : `version ${event.version} leaves a gap; expected ${expectedVersion} (an event removed or moved?)`,
          'version',
        ),
      );
      return true;
    }
    // Tamper evidence: an event that carries a hash must chain from the one before it in its stream.
    if (event.hash !== undefined) {
      const prev = before === undefined ? GENESIS_HASH : before.hash;
      const expected = prev === undefined ? undefined : eventHash(prev, event);
      if (expected !== event.hash) {
        this.fail(
          new InvalidEventError(
            this.locate(event, line),
            expected === undefined
              ? 'hash present, but the event before it in the stream has none'
              : `hash does not match: this event was changed, or events before it in ${event.stream} were removed, inserted or reordered (expected ${expected.slice(0, 12)}…, found ${event.hash.slice(0, 12)}…)`,
            'hash',
          ),
        );
        return true;
      }
    }
    const kind = streamKindOf(event.stream) ?? DEVICE_STREAMS;
    const lifecycle = kind === DEVICE_STREAMS && this.deviceLifecycle !== undefined ? this.deviceLifecycle : kind.lifecycle;
    const from = before === undefined ? lifecycle.initial : before.state;
    let state: MachineState<string, object> | undefined;
    try {
      state = lifecycle.next(from, event);
      if (state === undefined) throw lifecycle.refusal(from, event, this.locate(event, line));
    } catch (error) {
      if (!(error instanceof HotpatchError)) throw error;
      this.fail(error);
      return true;
    }
    this.folded++;
    const onStep = this.options.onStep;
    if (onStep === undefined && before !== undefined) {
      // Nobody keeps the state before: the stream's record is updated in place (no new object, no second lookup).
      const record = before as { -readonly [K in keyof StreamState]: StreamState[K] };
      record.state = state;
      record.version = event.version;
      record.time = event.time;
      record.hash = event.hash;
      return true;
    }
    // One shape for every stream state (hash present, possibly undefined), so reading them stays monomorphic.
    const after: StreamState = { stream: event.stream, state, version: event.version, time: event.time, hash: event.hash };
    this.streams.set(event.stream, after);
    onStep?.(event, before, after, index, line);
    return true;
  }

  result(): FoldResult {
    return { streams: this.streams, problems: this.problems, folded: this.folded, pastPoint: this.pastPoint };
  }
}

export function foldTimeline(input: FoldInput, options: FoldOptions = {}): FoldResult {
  const { events, lines } = input;
  const fold = new TimelineFold(options, input.file);
  for (let i = 0; i < events.length; i++) if (!fold.add(events[i]!, lines?.[i])) break;
  return fold.result();
}

/** Below this size a file is folded in this thread: starting workers would cost more than they save. */
const PARALLEL_FROM_BYTES = 16 << 20;

export interface FileFoldOptions extends FoldOptions {
  /**
   * Fold on several cores: 'auto' (default) for files of 16 MB and more, true whatever the size, false never. Used
   * only where the result is sure to be the one-thread fold's (no onStep, lifecycle or stream filter, not to a
   * position, a canonical clean file); otherwise the file is folded in this thread.
   */
  readonly parallel?: boolean | 'auto';
}

export interface FileFoldResult extends FoldResult {
  /** Lines that are not valid events (with `collectProblems`; otherwise the first is thrown). */
  readonly lineProblems: InvalidEventError[];
  /** Lines read (up to the replay point). */
  readonly lines: number;
}

/**
 * Folds a timeline file as it reads it: each line parsed, validated and folded, then dropped, so memory holds the
 * states and the ids, not the events. Stops reading at the replay point. Without `collectProblems`, the first
 * invalid line or refused event is thrown, naming the line.
 */
export async function foldFile(path: string, options: FileFoldOptions = {}): Promise<FileFoldResult> {
  // A large file, folded to its end or to a time, with nothing to call back per event: on several cores when it
  // can be (see fold-shards.ts), which falls back to this thread whenever it cannot be sure of the same result.
  const { parallel = 'auto', ...foldOptions } = options;
  const until = foldOptions.until ?? { kind: 'end' };
  if (parallel !== false && foldOptions.onStep === undefined && foldOptions.lifecycle === undefined && foldOptions.stream === undefined && until.kind !== 'position') {
    const shards = shardsAvailable();
    if (shards > 1 && (parallel === true || (await stat(path)).size >= PARALLEL_FROM_BYTES)) {
      const result = await foldInShards(path, foldOptions.until, shards);
      if (result !== undefined) return result;
    }
  }
  return foldFileInThisThread(path, foldOptions);
}

async function foldFileInThisThread(path: string, options: FoldOptions): Promise<FileFoldResult> {
  const fold = new TimelineFold(options, path);
  const lineProblems: InvalidEventError[] = [];
  let lines = 0;
  reading: for await (const { first, texts } of readLineBatches(path)) {
    for (let i = 0; i < texts.length; i++) {
      const line = first + i;
      const text = texts[i]!;
      lines = line;
      let event: HotpatchEvent;
      try {
        event = parseEventLine(text, line, path);
      } catch (error) {
        if (!(error instanceof InvalidEventError) || !options.collectProblems) throw error;
        lineProblems.push(error);
        continue;
      }
      if (!fold.add(event, line)) break reading;
    }
  }
  return { ...fold.result(), lineProblems, lines };
}
