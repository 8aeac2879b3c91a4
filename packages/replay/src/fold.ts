/**
 * Folding a timeline into device states, checking as it goes what a log must satisfy: versions contiguous per
 * stream, ids unique, positions growing, hashes chained (a log that carries hashes carries them on every event),
 * every transition accepted by the lifecycle. One fold serves replay, history and verify — over events in memory
 * (`foldTimeline`) or straight from a file (`foldFile`), which parses, validates and folds line by line without
 * holding the events (fold-file.ts).
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
import { eventHash, GENESIS_HASH } from '@hotpatch/store';
import type { StreamState } from './device-view.js';
import { IdIndex } from './id-index.js';
import { finishRoots, placeOf, type Root } from './roots.js';

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
  /**
   * Which events must carry a hash: 'all-or-none' (default), every event of a log in which any event carries one;
   * 'every', every event (a store's log: stores hash every event they write).
   */
  readonly hashes?: 'all-or-none' | 'every';
}

export interface FoldResult {
  readonly streams: Map<string, StreamState>;
  /** Each problem once, where it is (in order): not the problems of the events after it that follow from it. */
  readonly problems: HotpatchError[];
  /** What a problem implies for the rest of its stream, in one line (events not checked because of it, say). */
  readonly implications: ReadonlyMap<HotpatchError, string>;
  readonly folded: number;
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
}

/** The position of an event: its `position` field, or else its line number (or index + 1). */
export function positionOf(input: FoldInput, index: number): number {
  return input.events[index]!.position ?? input.lines?.[index] ?? index + 1;
}

/** The start of a line in the canonical layout (see formatEvent): its stream and version. */
const CANONICAL_START = /^\{"id":"[^"\\]*","stream":"([^"\\]+)","version":(\d{1,15})[,}]/;

/** How many events without a hash are remembered one by one before the log is known to carry hashes (then counted). */
const UNHASHED_KEPT = 1_000;
/** Past this many runs of events without a hash (in a log with hashes after them), one problem names them all. */
const LISTED_RUNS = 10;

/** An event without a hash met before any event with one: a problem if a later event carries a hash. */
interface Unhashed {
  readonly order: number;
  readonly at: EventLocation;
}

/**
 * What the fold knows of a stream since its first problem. Only streams with a problem have one: a clean stream
 * costs nothing more than before.
 */
interface Trouble {
  /** The hash the stream's next event must chain from; undefined when it cannot be known. */
  head: string | undefined;
  /** The last event did not chain (or had no hash): the next event of the stream tells why. */
  suspect?: Suspect;
  /** The stream's state is unknown after this problem: later transitions are not checked but counted on it. */
  unknownState?: Root;
  /** Events did not chain after this problem: later ones that do not either are counted on it, until one does. */
  broken?: Root;
  /** Versions missing at a gap: one of them coming later was moved. */
  gap?: Gap;
  /** A line of the stream that is not an event, and whose version could not be read: it may be the next one. */
  unreadable?: Root;
  /** An event whose version was changed (by `offset`; its hash is that of `from`, it says `to`). */
  renumbered?: { readonly root: Root; readonly offset: number; readonly from: number; readonly to: number };
}

interface Gap {
  readonly root: Root;
  readonly version: number;
  readonly from: number;
  readonly to: number;
  readonly late: Array<{ readonly version: number; readonly place: string }>;
}

/** An event whose hash did not match, or that had none: the event after it in its stream tells which case it is. */
interface Suspect {
  root: Root;
  readonly kind: 'mismatch' | 'missing';
  /** The event's version (of the last event of a run of missing hashes). */
  version: number;
  /** Its hash as written; the hash its content gives, chained from `headBefore`; the head before it. */
  readonly stored: string | undefined;
  computed: string | undefined;
  readonly headBefore: string | undefined;
  /** The stream before it (null: the stream was new), to undo its fold when it proves inserted. */
  readonly before: StreamState | null;
  readonly unknownBefore: Root | undefined;
  /** Why a missing hash is a problem; what a mismatch found. */
  readonly why: string;
  /** Missing hashes on the events after it in a row, and the last one's place. */
  more: number;
  last?: string;
}

const short = (hash: string) => (hash.length > 12 ? `${hash.slice(0, 12)}…` : JSON.stringify(hash));
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * A fold in progress: events go in one at a time with their line (or index), in log order. `add` says false once
 * the replay point is passed, so that a reader can stop reading.
 *
 * A problem is reported once, at the event where it is, and what it implies for the rest of its stream is counted
 * on it (see roots.ts): after a changed, removed, inserted or moved event, the stream's later events are still
 * checked against the hash chain and their versions, which the problem is taken into account for, but not against
 * the lifecycle (the state after the problem is unknown).
 */
export class TimelineFold {
  readonly streams = new Map<string, StreamState>();
  folded = 0;
  /** Set once an event past the replay point was read. */
  pastPoint = false;
  /** Whether the log carries hashes: then every event must (a store's log: from the first event). */
  hashed: boolean;
  private readonly roots: Root[] = [];
  private readonly troubles = new Map<string, Trouble>();
  /** Events without a hash before the first with one (the first UNHASHED_KEPT; the others counted). */
  private unhashed: Unhashed[] = [];
  /** The hash the content of each stream's last event gives, while no event carries one (to check it later). */
  private computedHeads = new Map<string, string>();
  private unhashedMore = 0;
  private firstUnhashedMore: EventLocation | undefined;
  /** Where each id was first seen (a line, or an index when there are no lines). */
  private readonly seenIds = new IdIndex(1 << 16);
  private readonly checkIds: boolean;
  private readonly requireHashes: boolean;
  private readonly untilTime: number;
  private readonly untilPosition: number;
  /** Streams that reached an event after the time asked for: the rest of each is after it too. */
  private readonly pastTime = new Set<string>();
  /** The last position seen, the one before it, and the event that had it (to tell which of two is out of order). */
  private lastPosition = 0;
  private positionBefore = 0;
  private lastPositioned: { event: HotpatchEvent; line: number | undefined } | undefined;
  /** A position above both its neighbours', or the next one below it: the position after them tells which. */
  private openOutlier: { readonly root: Root; readonly value: number } | undefined;
  private index = 0;
  private readonly deviceLifecycle: Pick<AnyLifecycle, 'next' | 'refusal' | 'initial'> | undefined;
  private finished: { problems: HotpatchError[]; implications: Map<HotpatchError, string> } | undefined;

  constructor(
    private readonly options: FoldOptions = {},
    private readonly file?: string,
  ) {
    const until = options.until ?? { kind: 'end' };
    this.untilTime = until.kind === 'time' ? Date.parse(until.time) : Number.POSITIVE_INFINITY;
    this.untilPosition = until.kind === 'position' ? until.position : Number.POSITIVE_INFINITY;
    this.deviceLifecycle = options.lifecycle;
    this.checkIds = options.checkIds ?? true;
    this.requireHashes = options.hashes === 'every';
    this.hashed = this.requireHashes;
  }

  /** Whether a problem was found so far. */
  get troubled(): boolean {
    return this.roots.length > 0;
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

  /** Records a problem (or throws it, when the fold does not collect problems). */
  private report(root: Omit<Root, 'unchecked' | 'unchained'>): Root {
    const full: Root = { ...root, unchecked: 0, unchained: 0 };
    if (!this.options.collectProblems) throw full.error ?? new InvalidEventError(full.at, full.what, full.field);
    this.roots.push(full);
    return full;
  }

  private problemAt(event: HotpatchEvent, line: number | undefined, index: number, field: string, what: string, more: Partial<Root> = {}): Root {
    return this.report({ order: line ?? event.position ?? index + 1, at: this.locate(event, line), field, what, ...more });
  }

  private troubleOf(stream: string, head: string | undefined): Trouble {
    let t = this.troubles.get(stream);
    if (t === undefined) this.troubles.set(stream, (t = { head }));
    return t;
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
      if (trouble !== undefined) return this.addTroubled(trouble, event, line, index);
    }
    const expectedVersion = before === undefined ? 1 : before.version + 1;
    if (event.version !== expectedVersion) return this.versionProblem(event, line, index, before, expectedVersion, undefined);
    // Tamper evidence: an event that carries a hash must chain from the one before it in its stream.
    if (event.hash !== undefined) {
      const head = before === undefined ? GENESIS_HASH : before.hash;
      // (No head: the event before it had no hash, which is reported as its own problem.)
      if (head !== undefined) {
        const expected = eventHash(head, event);
        if (expected !== event.hash) return this.suspect('mismatch', this.troubleOf(event.stream, event.hash), event, line, index, before, head, expected);
      }
    } else if (this.hashed) {
      const head = before === undefined ? GENESIS_HASH : before.hash;
      return this.suspect('missing', this.troubleOf(event.stream, undefined), event, line, index, before, head, head === undefined ? undefined : eventHash(head, event));
    } else {
      const computed = this.noteUnhashed(event, line, index, before === undefined ? GENESIS_HASH : this.computedHeads.get(event.stream));
      if (computed !== undefined) this.computedHeads.set(event.stream, computed);
      else if (this.computedHeads.size !== 0) this.computedHeads.delete(event.stream);
    }
    this.apply(event, line, index, before, undefined);
    return true;
  }

  /**
   * Positions must grow. When one does not, the event out of place is the one whose position is out of line with
   * both its neighbours: the one before (moved up) or this one (moved down).
   */
  private checkPosition(event: HotpatchEvent, line: number | undefined, index: number): void {
    const p = event.position!;
    const last = this.lastPosition;
    const open = this.openOutlier;
    if (open !== undefined) {
      // The position after an event whose own was above both its neighbours: below that one, it was out of place;
      // above it, it and the event after it are in each other's place.
      this.openOutlier = undefined;
      const root = open.root;
      if (p < root.outlier!.value) root.outlier = { ...root.outlier!, or: undefined };
      else root.what = `position ${root.outlier!.value} comes before ${open.value}, on the next line: the two are out of order (swapped?)`;
    }
    if (p > last) {
      this.positionBefore = last;
    } else if (p < last && p > this.positionBefore && this.lastPositioned !== undefined) {
      // Above both its neighbours, the event before is out of place; or this one is, below it and above the one
      // before it: the next position tells which (or, at the end, another problem at either: see finishRoots).
      const moved = this.lastPositioned;
      const order = line ?? event.position ?? index + 1;
      const root = this.problemAt(moved.event, moved.line, index - 1, 'position', `position ${last} is out of order: the event before it has ${this.positionBefore}, the one after it ${p} (moved?)`, {
        outlier: { kind: 'high', value: last, before: this.positionBefore, after: p, or: order },
      });
      this.openOutlier = { root, value: p };
    } else {
      // The same position twice: either event may be the one out of place (a copy, say).
      const twice = p === last && this.lastPositioned !== undefined ? { or: this.lastPositioned.line ?? last } : {};
      this.problemAt(event, line, index, 'position', `position ${p} does not follow ${last}`, { outlier: { kind: 'low', value: p, before: last, ...twice } });
      this.positionBefore = last;
    }
    this.lastPosition = p;
    this.lastPositioned = { event, line };
  }

  /**
   * An event without a hash before any with one: remembered (the first UNHASHED_KEPT, with the hash its content
   * gives chained from `head`, which is returned; the others counted) in case a later event carries a hash.
   */
  private noteUnhashed(event: HotpatchEvent, line: number | undefined, index: number, head: string | undefined): string | undefined {
    if (this.unhashed.length >= UNHASHED_KEPT) {
      if (this.unhashedMore++ === 0) this.firstUnhashedMore = this.locate(event, line);
      return undefined;
    }
    this.unhashed.push({ order: line ?? event.position ?? index + 1, at: this.locate(event, line) });
    return head === undefined ? undefined : eventHash(head, event);
  }

  /**
   * The first event with a hash: the log carries hashes, so the events without one met before it are problems: one
   * per run of consecutive events of a stream, left open for the stream's next event to tell whether the content
   * was changed, as for any missing hash; or, when there are many, one for them all.
   */
  private hashesFrom(event: HotpatchEvent, line: number | undefined): void {
    this.hashed = true;
    const from = placeOf(this.locate(event, line));
    const why = `while other events of the log carry hashes (from ${from} on; all must, or none)`;
    const pending = this.unhashed;
    const heads = this.computedHeads;
    this.unhashed = [];
    this.computedHeads = new Map();
    if (pending.length === 0) return;
    const runs: Array<{ first: Unhashed; last: Unhashed; count: number }> = [];
    const lastRun = new Map<string, (typeof runs)[number]>();
    for (const u of pending) {
      const stream = u.at.stream!;
      const run = lastRun.get(stream);
      if (run !== undefined && run.last.at.version! + 1 === u.at.version) {
        run.last = u;
        run.count++;
      } else {
        runs.push({ first: u, last: u, count: 1 });
        lastRun.set(stream, runs.at(-1)!);
      }
    }
    if (runs.length > LISTED_RUNS || this.unhashedMore > 0) {
      const total = pending.length + this.unhashedMore;
      const first = pending[0]!;
      const streams = this.unhashedMore === 0 ? `in ${plural(lastRun.size, 'stream')}; ` : '';
      this.report({ order: first.order, at: first.at, field: 'hash', what: `missing on this event and the ${plural(total - 1, 'other event')} before ${from} (${streams}not listed one by one), ${why}: none of them can be checked` });
      for (const stream of lastRun.keys()) this.troubleOf(stream, undefined).head = undefined;
      return;
    }
    for (const run of runs) {
      const stream = run.first.at.stream!;
      const known = this.troubles.get(stream);
      const head = known !== undefined ? known.head : heads.get(stream);
      const t = known ?? this.troubleOf(stream, undefined);
      const s: Suspect = { root: undefined!, kind: 'missing', version: run.last.at.version!, stored: undefined, computed: head, headBefore: undefined, before: null, unknownBefore: t.unknownState, why, more: run.count - 1, last: placeOf(run.last.at) };
      // The stream's last run is open: its next event tells whether the content is intact.
      const open = lastRun.get(stream) === run && this.streams.get(stream)?.version === s.version;
      s.root = this.report({ order: run.first.order, at: run.first.at, field: 'hash', what: suspectWhat(s, stream, 'unknown') });
      if (open) {
        t.suspect = s;
        t.head = head;
      }
    }
  }

  /** The next event of a stream with a problem: what it says of that problem first, then the usual checks. */
  private addTroubled(t: Trouble, event: HotpatchEvent, line: number | undefined, index: number): boolean {
    if (t.suspect !== undefined && this.resolve(t, event, line, index)) return true;
    const before = this.streams.get(event.stream);
    const expectedVersion = before === undefined ? 1 : before.version + 1;
    const unreadable = t.unreadable;
    t.unreadable = undefined;
    if (unreadable !== undefined && event.version === expectedVersion + 1) {
      // The line that is not an event was the version missing here: the stream goes on after it, state unknown.
      t.unknownState = unreadable;
      t.head = event.hash;
      this.apply(event, line, index, before, t);
      return true;
    }
    if (event.version !== expectedVersion) return this.versionProblem(event, line, index, before, expectedVersion, t);
    if (event.hash !== undefined) {
      if (t.head !== undefined) {
        const expected = eventHash(t.head, event);
        if (expected !== event.hash) {
          // A broken chain: the events after it do not chain either, until one does.
          if (t.broken !== undefined) t.broken.unchained++;
          else return this.suspect('mismatch', t, event, line, index, before, t.head, expected);
        } else if (t.broken !== undefined) {
          t.broken.rejoined = placeOf(this.locate(event, line));
          t.broken = undefined;
        }
      }
      t.head = event.hash;
    } else if (this.hashed) {
      return this.suspect('missing', t, event, line, index, before, t.head, t.head === undefined ? undefined : eventHash(t.head, event));
    } else t.head = this.noteUnhashed(event, line, index, t.head);
    this.apply(event, line, index, before, t);
    return true;
  }

  /**
   * An event whose hash does not match its content (or that has none, in a log with hashes): reported, folded as
   * it is, and left open for the next event of its stream to tell what happened (see `resolve`).
   */
  private suspect(kind: Suspect['kind'], t: Trouble, event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, headBefore: string | undefined, computed: string | undefined): true {
    const why =
      kind === 'mismatch'
        ? `its content does not give its hash (expected ${short(computed!)}, found ${short(event.hash!)})`
        : this.requireHashes
          ? 'a store hashes every event'
          : 'while other events of the log carry hashes (all must, or none)';
    const s: Suspect = { root: undefined!, kind, version: event.version, stored: event.hash, computed, headBefore, before: before === undefined ? null : { ...before }, unknownBefore: t.unknownState, why, more: 0 };
    s.root = this.problemAt(event, line, index, 'hash', suspectWhat(s, event.stream, 'unknown'));
    t.suspect = s;
    t.head = event.hash ?? computed;
    this.apply(event, line, index, before, t);
    return true;
  }

  /**
   * What the event after a suspect says of it: the suspect's content was changed (this event chains from the hash
   * as written), only its hash was (this one chains from the hash its content gives), it was inserted (this one has
   * its version and chains from the event before it), or the chain is broken there. True when it has dealt with
   * the event too (one more missing hash in a row).
   */
  private resolve(t: Trouble, event: HotpatchEvent, line: number | undefined, index: number): boolean {
    const s = t.suspect!;
    t.suspect = undefined;
    const next = `the next event of ${event.stream} (${placeOf(this.locate(event, line))}) chains from`;
    if (event.version === s.version + 1 && event.hash === undefined && s.kind === 'missing') {
      s.version++;
      s.more++;
      s.last = placeOf(this.locate(event, line));
      s.computed = s.computed === undefined ? undefined : eventHash(s.computed, event);
      t.suspect = s;
      t.head = s.computed;
      this.apply(event, line, index, this.streams.get(event.stream), t);
      return true;
    }
    if (event.version === s.version + 1 && event.hash !== undefined) {
      if (s.stored !== undefined && eventHash(s.stored, event) === event.hash) {
        this.conclude(t, s, 'changed', next);
        t.head = s.stored;
      } else if (s.computed !== undefined && eventHash(s.computed, event) === event.hash) {
        this.conclude(t, s, 'hash', next);
        t.head = s.computed;
      } else if (s.computed !== undefined) {
        // Its hash (if it has one) and its content both fail to give this event's: the chain is broken here, and
        // events after this one that do not chain either are counted on the problem, until one does.
        this.conclude(t, s, 'broken', next);
        if (s.kind === 'mismatch') t.broken = s.root;
        t.head = undefined;
      } else this.conclude(t, s, 'unknown', next);
      return false;
    }
    if (event.version === s.version && s.more === 0 && event.hash !== undefined && s.headBefore !== undefined && eventHash(s.headBefore, event) === event.hash) {
      this.conclude(t, s, 'inserted', next);
      // Undo the inserted event: the stream is as it was before it, and this event is its next.
      if (s.before === null) this.streams.delete(event.stream);
      else this.streams.set(event.stream, s.before);
      if (t.unknownState === undefined) this.folded--;
      else if (t.unknownState === s.unknownBefore) s.unknownBefore.unchecked--;
      t.unknownState = s.unknownBefore;
      t.head = s.headBefore;
      return false;
    }
    this.conclude(t, s, 'unknown', next);
    return false;
  }

  /** Words a suspect's problem with what came after it (`by`); from an unknown content, an unknown state. */
  private conclude(t: Trouble, s: Suspect, how: Conclusion, by?: string): void {
    s.root.what = suspectWhat(s, s.root.at.stream!, how, by);
    // Its content was changed, or may have been: the state after it is unknown.
    if (how !== 'hash' && how !== 'inserted' && t.unknownState === s.unknownBefore) t.unknownState = s.root;
  }

  /**
   * A version out of sequence: a version changed (the hash is that of the version expected), an event repeated,
   * one that comes after a later version of its stream (moved), or a gap (events removed, or moved later).
   */
  private versionProblem(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, expected: number, t: Trouble | undefined): true {
    const head = t !== undefined ? t.head : before === undefined ? GENESIS_HASH : before.hash;
    if (event.hash !== undefined && head !== undefined && eventHash(head, { ...event, version: expected }) === event.hash) {
      // Folded as the version its hash says. Later events renumbered the same way are part of this problem; one
      // renumbered the other way round is the other half of a swap.
      const offset = event.version - expected;
      const renumbered = t?.renumbered;
      if (renumbered !== undefined && offset === renumbered.offset) {
        renumbered.root.alike!.count++;
      } else if (renumbered !== undefined && event.version === renumbered.from && expected === renumbered.to) {
        renumbered.root.what = `versions ${renumbered.from} and ${renumbered.to} swapped: this event's hash is that of version ${renumbered.from}, and the one at ${placeOf(this.locate(event, line))} (written ${event.version}) has the hash of version ${renumbered.to}`;
        renumbered.root.explains!.push(line ?? event.position ?? index + 1);
        t!.renumbered = undefined;
      } else {
        const root = this.problemAt(event, line, index, 'version', `changed from ${expected} to ${event.version}: the hash is that of version ${expected}, the stream's next`, {
          alike: { count: 0, what: `carry versions changed the same way (${offset > 0 ? '+' : ''}${offset})` },
          explains: [],
        });
        (t ?? this.troubleOf(event.stream, event.hash)).renumbered = { root, offset, from: expected, to: event.version };
      }
      const trouble = t ?? this.troubles.get(event.stream);
      if (trouble !== undefined) trouble.head = event.hash;
      this.apply({ ...event, version: expected }, line, index, before, trouble);
      return true;
    }
    if (event.version < expected) {
      const gap = t?.gap;
      if (gap !== undefined && gap.from <= event.version && event.version <= gap.to && !gap.late.some((l) => l.version === event.version)) {
        gap.late.push({ version: event.version, place: placeOf(this.locate(event, line)) });
        gap.root.explains!.push(line ?? event.position ?? index + 1);
        gap.root.what = gapText(gap);
        return true;
      }
      this.problemAt(event, line, index, 'version', `version ${event.version} repeats; the stream is at ${expected - 1} (an event inserted, duplicated or moved?)`);
      return true;
    }
    const root = this.problemAt(event, line, index, 'version', `version ${event.version} leaves a gap; expected ${expected} (an event removed or moved?)`, { explains: [] });
    const trouble = t ?? this.troubleOf(event.stream, undefined);
    trouble.gap = { root, version: event.version, from: expected, to: event.version - 1, late: [] };
    root.what = gapText(trouble.gap);
    // The events missing here would say what state the stream is in after them: it is unknown. Its chain goes on
    // from this event's hash (which nothing can check: the hash it chains from is missing).
    trouble.unknownState = root;
    trouble.broken = undefined;
    trouble.head = event.hash;
    if (event.hash === undefined && this.hashed) this.problemAt(event, line, index, 'hash', 'missing, while other events of the log carry hashes (all must, or none)');
    this.advance(event, before, undefined);
    return true;
  }

  /** Folds an event through its stream's lifecycle; a refusal is reported, and the stream's state becomes unknown. */
  private apply(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, t: Trouble | undefined): void {
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
      state = lifecycle.next(from, event);
      if (state === undefined) throw lifecycle.refusal(from, event, this.locate(event, line));
    } catch (error) {
      if (!(error instanceof HotpatchError)) throw error;
      // A refusal of an event already reported (its hash) is part of that problem.
      const trouble = t ?? this.troubleOf(event.stream, event.hash ?? this.computedHeads.get(event.stream));
      const suspect = trouble.suspect;
      trouble.unknownState = suspect !== undefined && suspect.version === event.version ? suspect.root : this.report({ order: line ?? event.position ?? index + 1, at: this.locate(event, line), field: '', what: error.message, error });
      this.advance(event, before, undefined);
      return;
    }
    this.folded++;
    this.advance(event, before, state, index, line);
  }

  /** Records an event in its stream: with its new state, or (`state` undefined: not folded) its state unchanged. */
  private advance(event: HotpatchEvent, before: StreamState | undefined, state: MachineState<string, object> | undefined, index?: number, line?: number): void {
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
   * A line that is not an event, reported by its reader. When it names its stream and the version that stream
   * expects next, the stream goes on after it (its later events are not reported as a gap), with its state unknown.
   */
  unreadable(error: InvalidEventError, text?: string): void {
    const { line } = error.at;
    let { stream, version } = error.at;
    // A line that is not JSON (cut short, say) may still start as its event did, in the canonical layout.
    const start = stream === undefined && text !== undefined ? CANONICAL_START.exec(text) : null;
    if (start !== null) [stream, version] = [start[1], Number(start[2])];
    if (stream === undefined || (this.options.stream !== undefined && stream !== this.options.stream)) return;
    const before = this.streams.get(stream);
    if (version !== undefined && version !== (before === undefined ? 1 : before.version + 1)) return;
    const root: Root = { order: line ?? error.at.position ?? 0, at: { ...error.at, stream }, field: '', what: error.message, error, external: true, unchecked: 0, unchained: 0 };
    if (this.options.collectProblems) this.roots.push(root);
    const t = this.troubleOf(stream, before?.hash);
    if (t.suspect !== undefined) this.conclude(t, t.suspect, 'unknown');
    t.suspect = undefined;
    if (version === undefined) {
      t.unreadable = root;
      return;
    }
    t.unknownState = root;
    t.head = undefined;
    this.advance({ stream, version, time: before?.time ?? '', hash: undefined } as HotpatchEvent, before, undefined);
  }

  /**
   * A store's head of a stream, the hash it records for the stream's last event, tells what happened to that event
   * when its hash did not match (or it had none), as a next event would. True when it did: the head is part of that
   * problem, not one of its own.
   */
  explainedByHead(stream: string, hash: string): boolean {
    const t = this.troubles.get(stream);
    const s = t?.suspect;
    if (t === undefined || s === undefined) return false;
    t.suspect = undefined;
    this.conclude(t, s, hash === s.stored ? 'changed' : hash === s.computed ? 'hash' : 'broken', `the store's head of ${stream} is`);
    return true;
  }

  result(): FoldResult {
    if (this.finished === undefined) {
      for (const t of this.troubles.values()) if (t.suspect !== undefined) this.conclude(t, t.suspect, 'last');
      this.finished = finishRoots(this.roots);
    }
    return { streams: this.streams, problems: this.finished.problems, implications: this.finished.implications, folded: this.folded, hashed: this.hashed, pastPoint: this.pastPoint };
  }
}

type Conclusion = 'changed' | 'hash' | 'inserted' | 'broken' | 'unknown' | 'last';

/**
 * A suspect's problem in words, as what came after it explained it: `by` says what that was ("the next event of
 * device/x (line 12) chains from", "the store's head of device/x is").
 */
function suspectWhat(s: Suspect, stream: string, how: Conclusion, by?: string): string {
  if (s.kind === 'mismatch') {
    switch (how) {
      case 'changed':
        return `this event was changed after it was hashed: ${s.why}, and ${by} the hash as written`;
      case 'hash':
        return `only its hash was changed: ${s.why}, and ${by} the hash its content gives`;
      case 'inserted':
        return `this event was inserted: ${s.why}, and ${by} the hash of the event before it, with the same version`;
      case 'broken':
        return `${s.why}, and ${by} neither the hash as written nor the one its content gives: the chain is broken here`;
      case 'unknown':
        return `${s.why}: this event was changed, or its hash was`;
      case 'last':
        return `${s.why}: this event was changed, or its hash was (the last event of ${stream}: nothing after it tells which)`;
    }
  }
  const run = s.more > 0;
  const what = `${run ? `missing on this event and the ${plural(s.more, 'event')} after it in ${stream} (to ${s.last})` : 'missing'}, ${s.why}`;
  const its = run ? 'their' : 'its';
  switch (how) {
    case 'hash':
      return `${what}: ${run ? 'they were removed from intact events' : 'it was removed from an intact event'} (${by} the hash ${its} content gives)`;
    case 'inserted':
      return `this event was inserted: it has no hash, and ${by} the hash of the event before it, with the same version`;
    case 'changed':
    case 'broken':
      return `${what}, and ${by} another hash than ${its} content gives: ${run ? 'one of them' : 'this event'} was changed`;
    case 'unknown':
      return `${what}: ${run ? 'they' : 'it'} cannot be checked, and may have been changed`;
    case 'last':
      return `${what}: ${run ? 'they' : 'it'} cannot be checked, and may have been changed (${run && s.root.at.version === 1 ? `every event of ${stream}` : `the last event${run ? 's' : ''} of ${stream}`})`;
  }
}

/** A gap's problem, as the events after it explained it: versions that came later were moved, the others removed. */
function gapText(gap: Gap): string {
  const missing: number[] = [];
  for (let v = gap.from; v <= gap.to; v++) if (!gap.late.some((l) => l.version === v)) missing.push(v);
  const span = (vs: readonly number[]) => (vs.length === 1 ? `version ${vs[0]}` : vs.length === gap.to - gap.from + 1 ? `versions ${gap.from}–${gap.to}` : `versions ${vs.join(', ')}`);
  // Many versions that came later, in order: as a range.
  const late =
    gap.late.length > 3 && gap.late.every((l, k) => l.version === gap.late[0]!.version + k)
      ? `${gap.late[0]!.version}–${gap.late.at(-1)!.version} (${gap.late[0]!.place} to ${gap.late.at(-1)!.place})`
      : gap.late.map((l) => `${l.version} (${l.place})`).join(', ');
  if (missing.length === 0) return `version ${gap.version} comes before version${gap.late.length === 1 ? '' : 's'} ${late}: events out of order (moved or swapped)`;
  const removed = `${span(missing)} ${missing.length === 1 ? 'is' : 'are'} missing (removed?)`;
  return `version ${gap.version} leaves a gap; expected ${gap.from}: ${removed}${gap.late.length > 0 ? `, and version${gap.late.length === 1 ? '' : 's'} ${late} came later (moved)` : ''}`;
}

export function foldTimeline(input: FoldInput, options: FoldOptions = {}): FoldResult {
  const { events, lines } = input;
  const fold = new TimelineFold(options, input.file);
  for (let i = 0; i < events.length; i++) if (!fold.add(events[i]!, lines?.[i])) break;
  return fold.result();
}
