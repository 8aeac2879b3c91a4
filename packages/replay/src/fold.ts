/**
 * Folding a timeline into device states, checking as it goes what a log must satisfy: versions contiguous per
 * stream, ids unique, positions growing, hashes chained (a log that carries hashes carries them on every event),
 * every transition accepted by the lifecycle. One fold serves replay, history, status and verify — over events in
 * memory (`foldTimeline`) or straight from a file (`foldFile`, fold-file.ts), which parses, validates and folds line
 * by line without holding the events. What verify says more, what happened at each problem, is in diagnosis/.
 */
import {
  DEVICE_STREAMS,
  HotpatchError,
  InvalidEventError,
  isOfTenant,
  streamKindOf,
  type AnyLifecycle,
  type EventLocation,
  type HotpatchEvent,
  type MachineState,
  type OwnedState,
} from '@hotpatch/core';
import { eventHash, GENESIS_HASH } from '@hotpatch/store';
import type { StreamState } from './device-view.js';
import { TenantCrossStreamCheck } from './cross-stream.js';
import { IdIndex } from './id-index.js';
import { finishRoots, placeOf, type FinishedRoots, type Root } from './roots.js';
import { gapText, mismatchText, missingBeforeText, missingWhy, repeatText } from './fold-text.js';

export { gapText, mismatchText, missingBeforeText, missingWhy, repeatText };

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
  /**
   * Only this tenant's streams (`isOfTenant`: a named tenant's, under its prefix; `default`, the devices, rollouts
   * and rings without one): the others' events are passed over as if the log did not hold them (not folded, ids not
   * checked).
   */
  readonly tenant?: string;
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
  /**
   * Which events must carry a hash: 'all-or-none' (default), every event of a log in which any event carries one;
   * 'every', every event (a store's log: stores hash every event they write).
   */
  readonly hashes?: 'all-or-none' | 'every';
  /**
   * Check each device's patch steps against its rollout's records (cross-stream.ts), as verify does: a gap is a
   * problem, reported at the step where it shows once the log is read.
   */
  readonly crossStream?: boolean;
}

export interface FoldResult {
  readonly streams: Map<string, StreamState>;
  /** Each problem once, where it is (in order): not the problems of the events after it that follow from it. */
  readonly problems: HotpatchError[];
  /** What a problem implies for the rest of its stream, in one line (events not checked because of it, say). */
  readonly implications: ReadonlyMap<HotpatchError, string>;
  readonly folded: number;
  /** The events read, those a tenant filter passed over left out (a fold in this thread says it). */
  readonly read?: number;
  /** Whether the log carries hashes (then every event was checked against its stream's chain). */
  readonly hashed: boolean;
  /** Whether the log went on past the replay point (an event after it was read). */
  readonly pastPoint?: boolean;
}

/** What folding a file gives: the fold's result, and the lines that were not events. */
export interface FileFoldResult extends FoldResult {
  /** Lines that are not valid events (with `collectProblems`; otherwise the first is thrown). */
  readonly lineProblems: InvalidEventError[];
  /** Lines read (up to the replay point). */
  readonly lines: number;
  /** With FileFoldOptions.digest: the digest (fileDigest, hex) of the bytes the fold read, every shard's the same. */
  readonly digest?: string;
}

/** The position of an event: its `position` field, or else its line number (or index + 1). */
export function positionOf(input: FoldInput, index: number): number {
  return input.events[index]!.position ?? input.lines?.[index] ?? index + 1;
}

/** What the fold keeps of a stream after a problem that leaves its state unknown (a clean stream has none). */
export interface StreamTrouble {
  /** The stream's state is unknown after this problem: later transitions are not checked but counted on it. */
  unknownState?: Root;
}

/**
 * A fold in progress: events go in one at a time with their line (or index), in log order. `add` says false once
 * the replay point is passed, so that a reader can stop reading.
 *
 * A problem is reported once, at the event where it is. One that leaves the stream's state unknown (a gap, a hash
 * that does not match or is missing, a refused transition) ends the checks of that stream: its later events are
 * counted on the problem (`implications`), not reported one by one. Cheap bookkeeping only: replay, history and
 * status run this fold on every event and stop at the first problem. Verify folds with a `DiagnosingFold`
 * (diagnosis/), which overrides the protected methods called on a problem to follow the stream further and say
 * what happened to it.
 */
export class TimelineFold<T extends StreamTrouble = StreamTrouble> {
  readonly streams = new Map<string, StreamState>();
  folded = 0;
  /** Set once an event past the replay point was read. */
  pastPoint = false;
  /** Whether the log carries hashes: then every event must (a store's log: from the first event). */
  hashed: boolean;
  protected readonly roots: Root[] = [];
  /** Each stream with a problem that leaves its state unknown (the others have none). */
  protected readonly troubles = new Map<string, T>();
  protected readonly requireHashes: boolean;
  /** Events without a hash before the first with one, and the first of them. */
  private unhashedCount = 0;
  private firstUnhashed: Pick<Root, 'order' | 'at'> | undefined;
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
  private finished: FinishedRoots | undefined;
  private readonly crossStream: TenantCrossStreamCheck | undefined;
  /**
   * Whether each stream's state is the fold's own, written in place event after event (CompiledLifecycle.own and
   * nextInPlace): when nothing is called back per event (no onStep), with the library's lifecycles, in this class
   * (verify's diagnosis keeps the states before). A new state and context per event would outlive young collections
   * on a fleet of thousands (each is replaced only when its device's next event comes) and be copied twice.
   */
  private readonly inPlace: boolean;

  constructor(
    protected readonly options: FoldOptions = {},
    protected readonly file?: string,
  ) {
    const until = options.until ?? { kind: 'end' };
    this.untilTime = until.kind === 'time' ? Date.parse(until.time) : Number.POSITIVE_INFINITY;
    this.untilPosition = until.kind === 'position' ? until.position : Number.POSITIVE_INFINITY;
    this.deviceLifecycle = options.lifecycle;
    this.checkIds = options.checkIds ?? true;
    this.requireHashes = options.hashes === 'every';
    this.hashed = this.requireHashes;
    this.crossStream = options.crossStream ? new TenantCrossStreamCheck() : undefined;
    this.inPlace = new.target === TimelineFold && options.onStep === undefined && options.lifecycle === undefined;
  }

  /** Whether a problem was found so far. */
  get troubled(): boolean {
    return this.roots.length > 0;
  }

  /** Folds the next event; `line` is its line in a file. Returns false when the event is past the replay point. */
  add(event: HotpatchEvent, line?: number): boolean {
    if (this.options.tenant !== undefined && !isOfTenant(event.stream, this.options.tenant)) return true;
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
    // A repeated id first: a line written twice is that problem, whatever else is wrong with the copy.
    const firstSeen = this.checkIds ? this.seenIds.firstOrAdd(event.id, line ?? index) : undefined;
    if (firstSeen !== undefined) {
      this.problemAt(event, line, index, 'id', `id ${event.id} repeats the event at ${line !== undefined ? `line ${firstSeen}` : `index ${firstSeen}`}`);
      return true;
    }
    if (event.position !== undefined) this.checkPosition(event, line, index);
    if (event.hash !== undefined && !this.hashed) this.hashesFrom(event, line);
    if (this.options.stream !== undefined && event.stream !== this.options.stream) return true;

    const before = this.streams.get(event.stream);
    if (this.troubles.size !== 0) {
      const trouble = this.troubles.get(event.stream);
      if (trouble !== undefined) return this.addTroubled(trouble, event, line, index, before);
    }
    const expectedVersion = before === undefined ? 1 : before.version + 1;
    if (event.version !== expectedVersion) return this.versionProblem(event, line, index, before, expectedVersion);
    // Tamper evidence: an event that carries a hash must chain from the one before it in its stream.
    if (event.hash !== undefined) {
      const head = before === undefined ? GENESIS_HASH : before.hash;
      // (No head: the event before it had no hash, which is reported as its own problem.)
      if (head !== undefined) {
        const expected = eventHash(head, event);
        if (expected !== event.hash) return this.hashMismatch(event, line, index, before, head, expected);
      }
    } else if (this.hashed) {
      return this.hashMissing(event, line, index, before);
    } else {
      this.unhashed(event, line, index, before);
    }
    this.apply(event, line, index, before, undefined);
    return true;
  }

  /** Where an event is, built only when something is wrong with it (most events are fine). */
  protected locate(event: HotpatchEvent, line: number | undefined): EventLocation {
    return {
      ...(this.file !== undefined ? { file: this.file } : {}),
      ...(line !== undefined ? { line } : event.position !== undefined ? { position: event.position } : {}),
      stream: event.stream,
      version: event.version,
    };
  }

  /** Records a problem (or throws it, when the fold does not collect problems). */
  protected report<R extends Root>(root: Omit<R, 'unchecked'>): R {
    const full = { ...root, unchecked: 0 } as R;
    if (!this.options.collectProblems) throw full.error ?? new InvalidEventError(full.at, full.what, full.field);
    this.roots.push(full);
    return full;
  }

  protected problemAt<R extends Root = Root>(event: HotpatchEvent, line: number | undefined, index: number, field: string, what: string, more?: Partial<R>): R {
    return this.report<R>({ order: line ?? event.position ?? index + 1, at: this.locate(event, line), field, what, ...more } as Omit<R, 'unchecked'>);
  }

  /** A problem after which the stream's state is unknown: the event is recorded, not folded (see addTroubled). */
  protected lose(event: HotpatchEvent, before: StreamState | undefined, root: Root): true {
    this.troubles.set(event.stream, { unknownState: root } as T);
    this.advance(event, before, undefined);
    return true;
  }

  /** Positions must grow. */
  protected checkPosition(event: HotpatchEvent, line: number | undefined, index: number): void {
    const p = event.position!;
    if (p <= this.lastPosition) this.problemAt(event, line, index, 'position', `position ${p} does not follow ${this.lastPosition}`);
    this.lastPosition = p;
  }

  /** An event without a hash, while none had one: a problem if a later event carries a hash. */
  protected unhashed(event: HotpatchEvent, line: number | undefined, index: number, _before: StreamState | undefined): void {
    if (this.unhashedCount++ === 0) this.firstUnhashed = { order: line ?? event.position ?? index + 1, at: this.locate(event, line) };
  }

  /** The first event with a hash: the log carries hashes, so the events without one before it are a problem. */
  protected hashesFrom(event: HotpatchEvent, line: number | undefined): void {
    this.hashed = true;
    const first = this.firstUnhashed;
    if (first === undefined) return;
    const from = placeOf(this.locate(event, line));
    const others = this.unhashedCount - 1;
    this.report({ ...first, field: 'hash', what: others === 0 ? `missing, ${missingWhy(from)}: it cannot be checked, and may have been changed` : missingBeforeText(others, from) });
  }

  /** An event of a stream whose state is unknown: counted on the problem, not checked. */
  protected addTroubled(t: T, event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined): boolean {
    this.apply(event, line, index, before, t);
    return true;
  }

  /** A version out of sequence: an event repeated (left out), or a gap (events removed, or moved later). */
  protected versionProblem(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, expected: number): true {
    if (event.version < expected) {
      this.problemAt(event, line, index, 'version', repeatText(event.version, expected));
      return true;
    }
    return this.lose(event, before, this.problemAt(event, line, index, 'version', gapText(event.version, expected)));
  }

  /** An event whose content does not give its hash. */
  protected hashMismatch(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, _head: string, computed: string): true {
    return this.lose(event, before, this.problemAt(event, line, index, 'hash', `${mismatchText(computed, event.hash!)}: this event was changed, or its hash was`));
  }

  /** An event without a hash in a log that carries them. */
  protected hashMissing(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined): true {
    return this.lose(event, before, this.problemAt(event, line, index, 'hash', `missing, ${this.whyHashesRequired()}: it cannot be checked, and may have been changed`));
  }

  /** Why a missing hash is a problem here. */
  protected whyHashesRequired(): string {
    return this.requireHashes ? 'a store hashes every event' : missingWhy();
  }

  /** Folds an event through its stream's lifecycle; a refusal is reported, and the stream's state becomes unknown. */
  protected apply(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, t: T | undefined): void {
    if (t?.unknownState !== undefined) {
      t.unknownState.unchecked++;
      this.advance(event, before, undefined);
      return;
    }
    const kind = streamKindOf(event.stream) ?? DEVICE_STREAMS;
    const lifecycle = kind === DEVICE_STREAMS && this.deviceLifecycle !== undefined ? this.deviceLifecycle : kind.lifecycle;
    const from = before === undefined ? lifecycle.initial : before.state;
    let state: MachineState<string, object> | undefined;
    try {
      if (this.inPlace && before !== undefined) {
        // The stream's state is the fold's own (made by `own` below): written in place, or left as it was if refused.
        if (!(lifecycle as AnyLifecycle).nextInPlace(from as OwnedState<string, object>, event)) throw lifecycle.refusal(from, event, this.locate(event, line));
        state = from;
      } else {
        state = lifecycle.next(from, event);
        if (state === undefined) throw lifecycle.refusal(from, event, this.locate(event, line));
        if (this.inPlace) state = (lifecycle as AnyLifecycle).own(state);
      }
    } catch (error) {
      if (!(error instanceof HotpatchError)) throw error;
      this.refused(error, event, line, index, before, t);
      return;
    }
    this.folded++;
    this.advance(event, before, state, index, line);
    this.crossStream?.add(event, () => ({ order: line ?? event.position ?? index + 1, at: this.locate(event, line) }));
  }

  /** A transition the lifecycle refused: reported, and the stream's state is unknown after it. */
  protected refused(error: HotpatchError, event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, _t: T | undefined): void {
    this.lose(event, before, this.report({ order: line ?? event.position ?? index + 1, at: this.locate(event, line), field: '', what: error.message, error }));
  }

  /** Records an event in its stream: with its new state, or (`state` undefined: not folded) its state unchanged. */
  protected advance(event: HotpatchEvent, before: StreamState | undefined, state: MachineState<string, object> | undefined, index?: number, line?: number): void {
    const onStep = this.options.onStep;
    if (before !== undefined && onStep === undefined) {
      // Nobody keeps the state before: the stream's record is updated in place (no new object, no second lookup).
      const record = before as { -readonly [K in keyof StreamState]: StreamState[K] };
      if (state !== undefined) record.state = state;
      record.version = event.version;
      record.time = event.time;
      record.hash = event.hash;
      return;
    }
    const kind = streamKindOf(event.stream) ?? DEVICE_STREAMS;
    // One shape for every stream state (hash present, possibly undefined), so reading them stays monomorphic.
    const after: StreamState = { stream: event.stream, state: state ?? before?.state ?? kind.lifecycle.initial, version: event.version, time: event.time, hash: event.hash };
    this.streams.set(event.stream, after);
    if (state !== undefined) onStep?.(event, before, after, index!, line);
  }

  /**
   * A line that is not an event, reported by its reader (folding with `collectProblems`). When it names its
   * stream, that stream's state is unknown after it: its later events are counted on it.
   */
  unreadable(error: InvalidEventError, _text?: string): void {
    const { stream } = error.at;
    if (stream === undefined || (this.options.stream !== undefined && stream !== this.options.stream) || this.troubles.has(stream)) return;
    const root = this.external(error, stream);
    if (root !== undefined) this.troubles.set(stream, { unknownState: root } as T);
  }

  /** A root for a line its reader reports (undefined when the fold does not collect problems). */
  protected external(error: InvalidEventError, stream: string): Root | undefined {
    if (!this.options.collectProblems) return undefined;
    const root: Root = { order: error.at.line ?? error.at.position ?? 0, at: { ...error.at, stream }, field: '', what: error.message, error, external: true, unchecked: 0 };
    this.roots.push(root);
    return root;
  }

  /** The problems, final, and what each implies. */
  protected finish(): FinishedRoots {
    return finishRoots(this.roots);
  }

  result(): FoldResult {
    // The gaps between streams, once the log is read; none about a stream whose own problem leaves its state unknown.
    if (this.finished === undefined && this.crossStream !== undefined) {
      for (const { order, error, streams } of this.crossStream.findings()) {
        if (streams.every((s) => !this.troubles.has(s))) this.report({ order, at: error.at, field: 'stream', what: error.what, error });
      }
    }
    this.finished ??= this.finish();
    return { streams: this.streams, problems: this.finished.problems, implications: this.finished.implications, folded: this.folded, read: this.index, hashed: this.hashed, pastPoint: this.pastPoint };
  }
}

export function foldTimeline(input: FoldInput, options: FoldOptions = {}): FoldResult {
  const { events, lines } = input;
  const fold = new TimelineFold(options, input.file);
  for (let i = 0; i < events.length; i++) if (!fold.add(events[i]!, lines?.[i])) break;
  return fold.result();
}
