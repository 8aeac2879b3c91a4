/**
 * Verifying a timeline: every line a valid event, versions contiguous per stream, ids unique, every transition
 * accepted. Reports every problem, not just the first.
 */
import type { HotpatchError, InvalidEventError } from '@hotpatch/core';
import { foldTimeline, type FoldInput } from './fold.js';

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
  const all: HotpatchError[] = [...lineProblems, ...problems];
  const lineOf = (e: HotpatchError) => (e as { at?: { line?: number } }).at?.line ?? 0;
  all.sort((a, b) => lineOf(a) - lineOf(b));
  return { ok: all.length === 0, events: input.events.length + lineProblems.length, streams: streams.size, problems: all };
}
