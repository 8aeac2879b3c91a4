/**
 * Verifying a timeline: every line a valid event, versions contiguous per stream, ids unique, positions growing,
 * hashes on every event or on none and each chained, every transition accepted. Reports every problem once, where
 * it is, with what it implies for the events after it — not the consequences one by one — and, from what comes
 * after it, what happened (diagnosis/).
 */
import { isOfTenant, type HotpatchError, type InvalidEventError } from '@hotpatch/core';
import type { StreamState } from './device-view.js';
import { DiagnosingFold } from './diagnosis/diagnosing-fold.js';
import { foldFileWith } from './fold-file.js';
import type { FoldInput, FoldResult } from './fold.js';

export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly streams: number;
  /** Every problem found, in line order: each once, not the problems of later events that follow from it. */
  readonly problems: HotpatchError[];
  /** What a problem implies for the events after it in its stream, in one line (see FoldResult.implications). */
  readonly implications: ReadonlyMap<HotpatchError, string>;
  /**
   * Whether the log carries hashes. Without them only the format, versions, ids and transitions were checked: an
   * event changed, removed or inserted could not be seen.
   */
  readonly hashed: boolean;
}

/** A verified log, with each stream's last state (its last hash, for a digest of the log). */
export interface VerifiedLog extends VerifyReport {
  readonly streamStates: StreamState[];
}

/** What to verify of a log: the whole log (default), or one tenant's streams (see FoldOptions.tenant). */
export interface VerifyOptions {
  readonly tenant?: string;
}

/** Verifies parsed events; `lineProblems` are the lines that did not parse (see readTimeline). */
export function verifyTimeline(input: FoldInput, lineProblems: readonly InvalidEventError[] = [], options: VerifyOptions = {}): VerifyReport {
  const fold = new DiagnosingFold({ collectProblems: true, crossStream: true, ...options }, input.file);
  const { events, lines } = input;
  // The lines that did not parse go in where they were, so that the fold can tell what each implies.
  const unreadable = [...lineProblems].sort((a, b) => (a.at.line ?? 0) - (b.at.line ?? 0));
  let u = 0;
  for (let i = 0; i < events.length; i++) {
    const line = lines?.[i];
    while (u < unreadable.length && line !== undefined && (unreadable[u]!.at.line ?? 0) < line) fold.unreadable(unreadable[u++]!);
    fold.add(events[i]!, line);
  }
  while (u < unreadable.length) fold.unreadable(unreadable[u++]!);
  const counted = options.tenant === undefined ? events.length : events.filter((e) => isOfTenant(e.stream, options.tenant)).length;
  return report(fold.result(), lineProblems, counted + lineProblems.length);
}

/**
 * Verifies a timeline file as it reads it (line by line, on every core when it is large and clean: see foldFile),
 * never holding it whole.
 */
export async function verifyFile(path: string, options: VerifyOptions = {}): Promise<VerifiedLog> {
  const folded = await foldFileWith(path, { collectProblems: true, crossStream: true, ...options }, (foldOptions) => new DiagnosingFold(foldOptions, path));
  // A tenant's events: the lines the fold took in, and the lines that are not events (whose tenant is unknown).
  const events = options.tenant === undefined ? folded.lines : (folded.read ?? 0) + folded.lineProblems.length;
  return { ...report(folded, folded.lineProblems, events), streamStates: [...folded.streams.values()] };
}

function report(folded: FoldResult, lineProblems: readonly HotpatchError[], events: number): VerifyReport {
  const problems = inLineOrder(lineProblems, folded.problems);
  return { ok: problems.length === 0, events, streams: folded.streams.size, problems, implications: folded.implications, hashed: folded.hashed };
}

/** Lines that did not parse and events the fold refused, together in line order. */
function inLineOrder(lineProblems: readonly HotpatchError[], problems: readonly HotpatchError[]): HotpatchError[] {
  const lineOf = (e: HotpatchError) => (e as { at?: { line?: number } }).at?.line ?? 0;
  return [...lineProblems, ...problems].sort((a, b) => lineOf(a) - lineOf(b));
}
