/**
 * Checking a log's seals as it is read in order (verify): each seal's signature against the key given, its number
 * against its place in its stream, and its digest against the heads recomputed from the log up to the position it
 * covers. Events are added in log order; a seal is judged when it comes, from the heads now and a journal of the
 * events since the last seal's position, rolled back to the position it covers. A seal that covers a position the
 * journal no longer reaches (more than `journalLimit` events before it) is judged in a second read (`secondPass`).
 */
import type { KeyObject } from 'node:crypto';
import { dataCheckOf, SEAL_STREAMS, streamKindOf, type HotpatchEvent, type SealEventData } from '@hotpatch/core';
import { LogHeads } from './log-heads.js';
import { keyIdOf, sealSignatureValid } from './seal-text.js';

export interface SealVerdict {
  /** The seal's stream, version, position in the log (and line, in a file). */
  readonly stream: string;
  readonly version: number;
  readonly position: number;
  readonly line?: number;
  /** What the seal says: its number, the position it covers, the log up to there and the key it names. */
  readonly sequence: number;
  readonly covers: number;
  readonly events: number;
  readonly streams: number;
  readonly keyId: string;
  /** 'not checked': no key given; 'other key': it names another key than the one given. */
  readonly signature: 'valid' | 'invalid' | 'other key' | 'not checked';
  /** Whether the heads recomputed from the log up to `covers` give its digest and counts ('unknown': it covers past itself). */
  readonly digest: 'matches' | 'differs' | 'unknown';
  /** Why it fails, each in one line; none when it passes. */
  readonly problems: readonly string[];
}

export interface SealReport {
  readonly seals: readonly SealVerdict[];
  /** The id of the key the signatures were checked with; undefined when none was given. */
  readonly keyId: string | undefined;
  /** The position the last seal covers; undefined when the log has no seal. */
  readonly lastCovered: number | undefined;
  /** Events after the last seal's position (seals apart): no seal covers them. All of them when there is no seal. */
  readonly uncovered: number;
}

/** What the log gives at a position: its digest, events and streams. */
interface LogAt {
  readonly digest: string;
  readonly events: number;
  readonly streams: number;
}

interface Pending {
  readonly event: HotpatchEvent;
  readonly data: SealEventData['LogSealed'];
  readonly position: number;
  readonly line: number | undefined;
  readonly problems: string[];
  readonly signature: SealVerdict['signature'];
}

const isSeal = (event: HotpatchEvent): boolean => streamKindOf(event.stream) === SEAL_STREAMS;
const short = (id: string) => `${id.slice(0, 12)}…`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export class SealCheck {
  private readonly heads = new LogHeads();
  private readonly keyId: string | undefined;
  /** The events since the journal's floor: position, stream, the stream's head before it (undefined: its first). */
  private jPosition: number[] = [];
  private jStream: string[] = [];
  private jBefore: Array<string | undefined> = [];
  private jSeal: boolean[] = [];
  /** Positions at or below it are no longer in the journal. */
  private floor = 0;
  private readonly journalLimit: number;
  private readonly verdicts: Array<SealVerdict | Pending> = [];
  private readonly deferredAt = new Set<number>();
  private lastCovered: number | undefined;
  /** Events at or below the last seal's position, seals apart (undefined while its judgement is deferred). */
  private nonSealAtCover: number | undefined;
  private nonSealEvents = 0;
  /** Each seal stream's events so far: the place of its next seal. */
  private readonly sealVersions = new Map<string, number>();

  constructor(
    private readonly publicKey?: KeyObject,
    options: { readonly journalLimit?: number } = {},
  ) {
    this.keyId = publicKey && keyIdOf(publicKey);
    this.journalLimit = options.journalLimit ?? 1 << 18;
  }

  /** The log's next event, at `position` (its position, or its line in a file without positions). */
  add(event: HotpatchEvent, position: number, line?: number): void {
    const seal = isSeal(event);
    if (seal && event.type === 'LogSealed') this.judge(event, position, line);
    const before = this.heads.heads.get(event.stream);
    this.heads.add(event.stream, event.hash ?? '', position);
    this.jPosition.push(position);
    this.jStream.push(event.stream);
    this.jBefore.push(before);
    this.jSeal.push(seal);
    if (!seal) this.nonSealEvents++;
    if (this.jPosition.length > this.journalLimit) this.trim(this.jPosition.length - (this.journalLimit >> 1));
  }

  private judge(event: HotpatchEvent, position: number, line: number | undefined): void {
    const version = (this.sealVersions.get(event.stream) ?? 0) + 1;
    this.sealVersions.set(event.stream, version);
    const where = { stream: event.stream, version: event.version, position, ...(line !== undefined ? { line } : {}) };
    if (dataCheckOf(SEAL_STREAMS, 'LogSealed')?.check(event.data) !== true) {
      this.verdicts.push({ ...where, sequence: 0, covers: 0, events: 0, streams: 0, keyId: '', signature: 'invalid', digest: 'unknown', problems: ['not a well-formed seal (verify names what is wrong with it)'] });
      return;
    }
    const data = event.data as SealEventData['LogSealed'];
    const problems: string[] = [];
    let signature: SealVerdict['signature'] = 'not checked';
    if (this.publicKey !== undefined) {
      if (data.keyId !== this.keyId) {
        signature = 'other key';
        problems.push(`it names key ${short(data.keyId)}, not the key given (${short(this.keyId!)}): signed with another key, or its key id was changed`);
      } else {
        signature = sealSignatureValid({ ...data, stream: event.stream, time: event.time }, data.signature, this.publicKey) ? 'valid' : 'invalid';
        if (signature === 'invalid') problems.push('its signature does not verify with the key given: the seal was changed, or forged');
      }
    }
    if (data.sequence !== version) {
      problems.push(
        data.sequence > version
          ? `it is seal ${data.sequence} of ${event.stream} but its event ${version}: ${plural(data.sequence - version, 'seal')} before it removed`
          : `it is seal ${data.sequence} of ${event.stream} but its event ${version}: ${plural(version - data.sequence, 'event')} inserted before it`,
      );
    }
    const pending: Pending = { event, data, position, line, problems, signature };
    // Positions grow: this seal, and every later one, covers what the journal holds (or further back: deferred).
    if (data.position >= position) {
      problems.push(`it covers position ${data.position}, not before its own (${position}): what it covers cannot be known`);
      this.verdicts.push(this.verdict(pending, undefined));
      return;
    }
    this.lastCovered = data.position;
    if (data.position < this.floor) {
      this.deferredAt.add(data.position);
      this.nonSealAtCover = undefined;
      this.verdicts.push(pending);
      return;
    }
    const { at, uncovered } = this.rolledBackTo(data.position);
    this.nonSealAtCover = this.nonSealEvents - uncovered;
    this.verdicts.push(this.verdict(pending, at));
    // Later seals cover no less (the seal machine refuses one that does; then it is deferred): the journal up to
    // this position is done with.
    let drop = 0;
    while (drop < this.jPosition.length && this.jPosition[drop]! <= data.position) drop++;
    if (drop > 0) this.trim(drop);
  }

  /** The log at `position`, from the heads now and the journal's events after it; and how many of those are not seals. */
  private rolledBackTo(position: number): { at: LogAt; uncovered: number } {
    const instead = new Map<string, string | undefined>();
    let removed = 0;
    let uncovered = 0;
    // From the newest event back: each stream ends with the head it had before its first event after `position`.
    for (let i = this.jPosition.length - 1; i >= 0 && this.jPosition[i]! > position; i--) {
      instead.set(this.jStream[i]!, this.jBefore[i]);
      removed++;
      if (!this.jSeal[i]) uncovered++;
    }
    let born = 0;
    for (const head of instead.values()) if (head === undefined) born++;
    return { at: { digest: this.heads.digest(instead), events: this.heads.events - removed, streams: this.heads.streams - born }, uncovered };
  }

  private verdict(p: Pending, at: LogAt | undefined): SealVerdict {
    const { data, event } = p;
    let digest: SealVerdict['digest'] = 'unknown';
    const problems = [...p.problems];
    if (at !== undefined) {
      digest = at.digest === data.digest && at.events === data.events && at.streams === data.streams ? 'matches' : 'differs';
      if (digest === 'differs') {
        const counts = at.events !== data.events || at.streams !== data.streams ? `: it sealed ${plural(data.events, 'event')} in ${plural(data.streams, 'stream')}, the log has ${plural(at.events, 'event')} in ${plural(at.streams, 'stream')} there` : '';
        problems.push(`the heads of the log up to position ${data.position} do not give its digest${counts}: an event at or below it was changed, removed, inserted or moved (hashes recomputed or not)`);
      }
    }
    return {
      stream: event.stream,
      version: event.version,
      position: p.position,
      ...(p.line !== undefined ? { line: p.line } : {}),
      sequence: data.sequence,
      covers: data.position,
      events: data.events,
      streams: data.streams,
      keyId: data.keyId,
      signature: p.signature,
      digest,
      problems,
    };
  }

  /** Drops the journal's first `n` events. */
  private trim(n: number): void {
    this.floor = Math.max(this.floor, this.jPosition[n - 1]!);
    this.jPosition = this.jPosition.slice(n);
    this.jStream = this.jStream.slice(n);
    this.jBefore = this.jBefore.slice(n);
    this.jSeal = this.jSeal.slice(n);
  }

  /** The positions a second read of the log must give the heads at (see secondPass); empty most of the time. */
  deferred(): readonly number[] {
    return [...this.deferredAt].sort((a, b) => a - b);
  }

  /**
   * A second read of the log, from its start, for the deferred seals (events in log order, each with the position
   * given to `add`; `finish` judges them). Nothing to feed when `deferred()` is empty.
   */
  secondPass(): { add(event: HotpatchEvent, position: number): void; finish(): void } {
    const targets = this.deferred();
    const heads = new LogHeads();
    let nonSeal = 0;
    const found = new Map<number, LogAt & { readonly nonSeal: number }>();
    let t = 0;
    const reach = (position: number) => {
      while (t < targets.length && targets[t]! < position) found.set(targets[t++]!, { digest: heads.digest(), events: heads.events, streams: heads.streams, nonSeal });
    };
    return {
      add: (event, position) => {
        reach(position);
        if (t === targets.length) return;
        heads.add(event.stream, event.hash ?? '', position);
        if (!isSeal(event)) nonSeal++;
      },
      finish: () => {
        reach(Number.POSITIVE_INFINITY);
        for (let i = 0; i < this.verdicts.length; i++) {
          const v = this.verdicts[i]!;
          if ('data' in v) this.verdicts[i] = this.verdict(v, found.get(v.data.position));
        }
        if (this.nonSealAtCover === undefined && this.lastCovered !== undefined) this.nonSealAtCover = found.get(this.lastCovered)?.nonSeal;
      },
    };
  }

  result(): SealReport {
    const seals = this.verdicts.map((v) => ('data' in v ? this.verdict(v, undefined) : v));
    const uncovered = this.nonSealEvents - (this.lastCovered === undefined ? 0 : (this.nonSealAtCover ?? 0));
    return { seals, keyId: this.keyId, lastCovered: this.lastCovered, uncovered };
  }
}
