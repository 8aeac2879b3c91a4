/**
 * Verifying a timeline: every line a valid event, versions contiguous per stream, ids unique, every transition
 * accepted. Reports every problem, not just the first.
 */
import type { HotpatchError, InvalidEventError } from '@hotpatch/core';
import type { StreamState } from './device-view.js';
import { foldFile, foldTimeline, type FoldInput } from './fold.js';

export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly streams: number;
  /** Every problem found, in line order. */
  readonly problems: HotpatchError[];
}

/** Verifies parsed events; `lineProblems` are the lines that did not parse (see readTimeline). */
export function verifyTimeline(input: FoldInput, lineProblems: readonly InvalidEventError[] = []): VerifyReport {
  const { streams, problems } = foldTimeline(input, { collectProblems: true });
  const all = inLineOrder(lineProblems, problems);
  return { ok: all.length === 0, events: input.events.length + lineProblems.length, streams: streams.size, problems: all };
}

/**
 * Verifies a timeline file as it reads it (foldFile: line by line, on every core when it is large and clean),
 * never holding it whole. Also gives each stream's last state (its last hash, for a digest of the log).
 */
export async function verifyFile(path: string): Promise<VerifyReport & { readonly streamStates: StreamState[] }> {
  const folded = await foldFile(path, { collectProblems: true });
  const problems = inLineOrder(folded.lineProblems, folded.problems);
  return { ok: problems.length === 0, events: folded.lines, streams: folded.streams.size, problems, streamStates: [...folded.streams.values()] };
}

/** Lines that did not parse and events the fold refused, together in line order. */
function inLineOrder(lineProblems: readonly HotpatchError[], problems: readonly HotpatchError[]): HotpatchError[] {
  const lineOf = (e: HotpatchError) => (e as { at?: { line?: number } }).at?.line ?? 0;
  return [...lineProblems, ...problems].sort((a, b) => lineOf(a) - lineOf(b));
}
