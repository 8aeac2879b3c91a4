/**
 * Verify's fold: the timeline fold, which on a problem finds out what happened — an event changed, only its hash
 * changed, an event inserted, removed, moved or renumbered, two lines swapped — from what comes after it in its
 * stream, and follows the stream's versions and hash chain past it. Only streams with a problem cost more than in
 * the plain fold; what it keeps for them, and its last pass over the problems, are O(n log² n) at worst.
 */
import type { HotpatchError, HotpatchEvent, InvalidEventError } from '@hotpatch/core';
import { eventHash, GENESIS_HASH } from '@hotpatch/store';
import type { StreamState } from '../device-view.js';
import { gapText, missingBeforeText, mismatchText, missingWhy, repeatText, TimelineFold, type StreamTrouble } from '../fold.js';
import { placeOf, type FinishedRoots } from '../roots.js';
import type { DiagnosedRoot } from './diagnosed-root.js';
import { finishDiagnosed } from './finish-diagnosed.js';
import { cameLate, gapAt, gapWhat, type Gap } from './gaps.js';
import { PositionOutliers } from './position-outliers.js';
import { suspectWhat, type Conclusion, type Suspect } from './suspects.js';
import { LISTED_RUNS, unhashedRuns, UNHASHED_KEPT, type Unhashed } from './unhashed-runs.js';

/** What the diagnosis knows of a stream since its first problem (a clean stream has none). */
interface Diagnosis extends StreamTrouble {
  /** The hash the stream's next event must chain from; undefined when it cannot be known. */
  head: string | undefined;
  unknownState?: DiagnosedRoot;
  /** The last event did not chain (or had no hash): the next event of the stream tells why. */
  suspect?: Suspect;
  /** Events did not chain after this problem: later ones that do not either are counted on it, until one does. */
  broken?: DiagnosedRoot;
  /** Versions missing at a gap: one of them coming later was moved. */
  gap?: Gap;
  /** A line of the stream that is not an event, and whose version could not be read: it may be the next one. */
  unreadable?: DiagnosedRoot;
  /** An event whose version was changed (by `offset`; its hash is that of `from`, it says `to`). */
  renumbered?: { readonly root: DiagnosedRoot; readonly offset: number; readonly from: number; readonly to: number };
}

/** The start of a line in the canonical layout (see formatEvent): its stream and version. */
const CANONICAL_START = /^\{"id":"[^"\\]*","stream":"([^"\\]+)","version":(\d{1,15})[,}]/;

export class DiagnosingFold extends TimelineFold<Diagnosis> {
  private readonly positions = new PositionOutliers((event, line, index, field, what, more) => this.problemAt<DiagnosedRoot>(event, line, index, field, what, more));
  /** Every gap found (its words are written when the fold ends, once every late version has come). */
  private readonly gaps: Gap[] = [];
  /** Events without a hash before the first with one (the first UNHASHED_KEPT; the others counted). */
  private unhashedEvents: Unhashed[] = [];
  private unhashedMore = 0;
  /** The hash the content of each stream's last event gives, while no event carries one (to check it later). */
  private computedHeads = new Map<string, string>();

  private troubleOf(stream: string, head: string | undefined): Diagnosis {
    let t = this.troubles.get(stream);
    if (t === undefined) this.troubles.set(stream, (t = { head }));
    return t;
  }

  protected override checkPosition(event: HotpatchEvent, line: number | undefined, index: number): void {
    this.positions.check(event, line, index);
  }

  /**
   * An event without a hash before any with one: remembered (the first UNHASHED_KEPT, with the hash its content
   * gives, chained from its stream's) in case a later event carries a hash; the others counted.
   */
  protected override unhashed(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined): void {
    const computed = this.noteUnhashed(event, line, index, before === undefined ? GENESIS_HASH : this.computedHeads.get(event.stream));
    if (computed !== undefined) this.computedHeads.set(event.stream, computed);
    else if (this.computedHeads.size !== 0) this.computedHeads.delete(event.stream);
  }

  /** Remembers an event without a hash; the hash its content gives, chained from `head`, when it can be known. */
  private noteUnhashed(event: HotpatchEvent, line: number | undefined, index: number, head: string | undefined): string | undefined {
    if (this.unhashedEvents.length >= UNHASHED_KEPT) {
      this.unhashedMore++;
      return undefined;
    }
    this.unhashedEvents.push({ order: line ?? event.position ?? index + 1, at: this.locate(event, line) });
    return head === undefined ? undefined : eventHash(head, event);
  }

  /**
   * The first event with a hash: the log carries hashes, so the events without one met before it are problems: one
   * per run of consecutive events of a stream, left open for the stream's next event to tell whether the content
   * was changed, as for any missing hash; or, when there are many, one for them all.
   */
  protected override hashesFrom(event: HotpatchEvent, line: number | undefined): void {
    this.hashed = true;
    const from = placeOf(this.locate(event, line));
    const pending = this.unhashedEvents;
    const heads = this.computedHeads;
    this.unhashedEvents = [];
    this.computedHeads = new Map();
    if (pending.length === 0) return;
    const { runs, lastRun } = unhashedRuns(pending);
    if (runs.length > LISTED_RUNS || this.unhashedMore > 0) {
      const first = pending[0]!;
      this.report({ order: first.order, at: first.at, field: 'hash', what: missingBeforeText(pending.length + this.unhashedMore - 1, from, this.unhashedMore === 0 ? lastRun.size : undefined) });
      for (const stream of lastRun.keys()) this.troubleOf(stream, undefined).head = undefined;
      return;
    }
    for (const run of runs) {
      const stream = run.first.at.stream!;
      const known = this.troubles.get(stream);
      const head = known !== undefined ? known.head : heads.get(stream);
      const t = known ?? this.troubleOf(stream, undefined);
      const s: Suspect = { root: undefined!, kind: 'missing', version: run.last.at.version!, stored: undefined, computed: head, headBefore: undefined, before: null, unknownBefore: t.unknownState, why: missingWhy(from), more: run.count - 1, last: placeOf(run.last.at) };
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
  protected override addTroubled(t: Diagnosis, event: HotpatchEvent, line: number | undefined, index: number): boolean {
    if (t.suspect !== undefined && this.resolve(t, event, line, index)) return true;
    // (Resolving may have undone the event before, when this one showed it inserted.)
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
    if (event.version !== expectedVersion) return this.outOfSequence(event, line, index, before, expectedVersion, t);
    if (event.hash !== undefined) {
      if (t.head !== undefined) {
        const expected = eventHash(t.head, event);
        if (expected !== event.hash) {
          // A broken chain: the events after it do not chain either, until one does.
          if (t.broken !== undefined) t.broken.unchained = (t.broken.unchained ?? 0) + 1;
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

  protected override hashMismatch(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, head: string, computed: string): true {
    return this.suspect('mismatch', this.troubleOf(event.stream, event.hash), event, line, index, before, head, computed);
  }

  protected override hashMissing(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined): true {
    const head = before === undefined ? GENESIS_HASH : before.hash;
    return this.suspect('missing', this.troubleOf(event.stream, undefined), event, line, index, before, head, head === undefined ? undefined : eventHash(head, event));
  }

  /**
   * An event whose hash does not match its content (or that has none, in a log with hashes): reported, folded as
   * it is, and left open for the next event of its stream to tell what happened (see `resolve`).
   */
  private suspect(kind: Suspect['kind'], t: Diagnosis, event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, headBefore: string | undefined, computed: string | undefined): true {
    const why = kind === 'mismatch' ? mismatchText(computed!, event.hash!) : this.whyHashesRequired();
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
  private resolve(t: Diagnosis, event: HotpatchEvent, line: number | undefined, index: number): boolean {
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
  private conclude(t: Diagnosis, s: Suspect, how: Conclusion, by?: string): void {
    s.root.what = suspectWhat(s, s.root.at.stream!, how, by);
    // Its content was changed, or may have been: the state after it is unknown.
    if (how !== 'hash' && how !== 'inserted' && t.unknownState === s.unknownBefore) t.unknownState = s.root;
  }

  protected override versionProblem(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, expected: number): true {
    return this.outOfSequence(event, line, index, before, expected, undefined);
  }

  /**
   * A version out of sequence: a version changed (the hash is that of the version expected), an event repeated,
   * one that comes after a later version of its stream (moved), or a gap (events removed, or moved later).
   */
  private outOfSequence(event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, expected: number, t: Diagnosis | undefined): true {
    const head = t !== undefined ? t.head : before === undefined ? GENESIS_HASH : before.hash;
    const order = line ?? event.position ?? index + 1;
    if (event.hash !== undefined && head !== undefined && eventHash(head, { ...event, version: expected }) === event.hash) {
      // Folded as the version its hash says. Later events renumbered the same way are part of this problem; one
      // renumbered the other way round is the other half of a swap.
      const offset = event.version - expected;
      const renumbered = t?.renumbered;
      if (renumbered !== undefined && offset === renumbered.offset) {
        renumbered.root.alike!.count++;
      } else if (renumbered !== undefined && event.version === renumbered.from && expected === renumbered.to) {
        renumbered.root.what = `versions ${renumbered.from} and ${renumbered.to} swapped: this event's hash is that of version ${renumbered.from}, and the one at ${placeOf(this.locate(event, line))} (written ${event.version}) has the hash of version ${renumbered.to}`;
        renumbered.root.explains!.push(order);
        t!.renumbered = undefined;
      } else {
        const root = this.problemAt<DiagnosedRoot>(event, line, index, 'version', `changed from ${expected} to ${event.version}: the hash is that of version ${expected}, the stream's next`, {
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
      if (t?.gap === undefined || !cameLate(t.gap, event.version, placeOf(this.locate(event, line)), order)) this.problemAt(event, line, index, 'version', repeatText(event.version, expected));
      return true;
    }
    const root = this.problemAt<DiagnosedRoot>(event, line, index, 'version', gapText(event.version, expected), { explains: [] });
    const trouble = t ?? this.troubleOf(event.stream, undefined);
    trouble.gap = gapAt(root, event.version, expected);
    this.gaps.push(trouble.gap);
    // The events missing here would say what state the stream is in after them: it is unknown. Its chain goes on
    // from this event's hash (which nothing can check: the hash it chains from is missing).
    trouble.unknownState = root;
    trouble.broken = undefined;
    trouble.head = event.hash;
    if (event.hash === undefined && this.hashed) this.problemAt(event, line, index, 'hash', `missing, ${missingWhy()}`);
    this.advance(event, before, undefined);
    return true;
  }

  /** A refusal of an event already reported (its hash) is part of that problem. */
  protected override refused(error: HotpatchError, event: HotpatchEvent, line: number | undefined, index: number, before: StreamState | undefined, t: Diagnosis | undefined): void {
    const trouble = t ?? this.troubleOf(event.stream, event.hash ?? this.computedHeads.get(event.stream));
    const suspect = trouble.suspect;
    trouble.unknownState = suspect !== undefined && suspect.version === event.version ? suspect.root : this.report<DiagnosedRoot>({ order: line ?? event.position ?? index + 1, at: this.locate(event, line), field: '', what: error.message, error });
    this.advance(event, before, undefined);
  }

  /**
   * A line that is not an event, reported by its reader. When it names its stream and the version that stream
   * expects next, the stream goes on after it (its later events are not reported as a gap), with its state unknown.
   */
  override unreadable(error: InvalidEventError, text?: string): void {
    let { stream, version } = error.at;
    // A line that is not JSON (cut short, say) may still start as its event did, in the canonical layout.
    const start = stream === undefined && text !== undefined ? CANONICAL_START.exec(text) : null;
    if (start !== null) [stream, version] = [start[1], Number(start[2])];
    if (stream === undefined || (this.options.stream !== undefined && stream !== this.options.stream)) return;
    const before = this.streams.get(stream);
    if (version !== undefined && version !== (before === undefined ? 1 : before.version + 1)) return;
    const root = this.external(error, stream);
    if (root === undefined) return;
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
  concludeByHead(stream: string, hash: string): boolean {
    const t = this.troubles.get(stream);
    const s = t?.suspect;
    if (t === undefined || s === undefined) return false;
    t.suspect = undefined;
    this.conclude(t, s, hash === s.stored ? 'changed' : hash === s.computed ? 'hash' : 'broken', `the store's head of ${stream} is`);
    return true;
  }

  protected override finish(): FinishedRoots {
    for (const t of this.troubles.values()) if (t.suspect !== undefined) this.conclude(t, t.suspect, 'last');
    for (const gap of this.gaps) gap.root.what = gapWhat(gap);
    return finishDiagnosed(this.roots as DiagnosedRoot[]);
  }
}
