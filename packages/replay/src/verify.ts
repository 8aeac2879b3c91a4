/**
 * Verifying a timeline: every line a valid event, versions contiguous per stream, ids unique, positions growing,
 * hashes on every event or on none and each chained, every transition accepted. Reports every problem once, where
 * it is, with what it implies for the events after it — not the consequences one by one — and, from what comes
 * after it, what happened (diagnosis/).
 */
import type { KeyObject } from 'node:crypto';
import { isOfTenant, type HotpatchError, type InvalidEventError } from '@hotpatch/core';
import { parseEventLine, readLines, SealCheck, type SealReport } from '@hotpatch/store';
import type { StreamState } from './device-view.js';
import { foldFileWith } from './fold-file.js';
import { positionOf, type FoldInput, type FoldResult } from './fold.js';
import { SealedFold, sealOutcome } from './seals.js';

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
  /**
   * The log's seals, each judged (`SealCheck`): its signature with the key given (not checked without one), its
   * number in its stream, and its digest against the heads of the log up to the position it covers; and how many
   * events come after the last seal's position. A seal that fails is also a problem (`SEAL_FAILED`).
   */
  readonly seals: SealReport;
}

/** How to check a log's seals, and what to verify of it: the whole log (default), or one tenant's streams. */
export interface VerifyOptions {
  /**
   * Only this tenant's streams (see FoldOptions.tenant and isOfTenant: `default`, its devices, rollouts and rings).
   * The seals, which vouch for the whole log, are still checked against all of it.
   */
  readonly tenant?: string;
  /** The public key the seals must be signed with; without it, signatures are not checked (the rest is). */
  readonly sealKey?: KeyObject;
  /** Events the seal check keeps to roll its heads back (see SealCheck); beyond them, a second read. */
  readonly sealJournal?: number;
  /** Take a digest of the bytes verified (VerifiedLog.digest; verifyFile only). */
  readonly digest?: boolean;
}

/** A verified log, with each stream's last state (its last hash, for a digest of the log). */
export interface VerifiedLog extends VerifyReport {
  readonly streamStates: StreamState[];
  /** With VerifyOptions.digest: the digest (fileDigest, hex) of the bytes verified, to tie a later read of the file to this one. */
  readonly digest?: string;
}

/** Verifies parsed events; `lineProblems` are the lines that did not parse (see readTimeline). */
export function verifyTimeline(input: FoldInput, lineProblems: readonly InvalidEventError[] = [], options: VerifyOptions = {}): VerifyReport {
  const seals = sealCheck(options);
  const fold = new SealedFold({ collectProblems: true, crossStream: true, ...tenantOption(options) }, input.file, seals);
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
  if (seals.deferred().length > 0) {
    const pass = seals.secondPass();
    for (let i = 0; i < events.length; i++) pass.add(events[i]!, positionOf(input, i));
    pass.finish();
  }
  const counted = options.tenant === undefined ? events.length : events.filter((e) => isOfTenant(e.stream, options.tenant)).length;
  return report(fold.result(), lineProblems, counted + lineProblems.length, seals, options, input.file);
}

/**
 * Verifies a timeline file as it reads it (line by line, on every core when it is large and clean: see foldFile),
 * never holding it whole.
 */
export async function verifyFile(path: string, options: VerifyOptions = {}): Promise<VerifiedLog> {
  const seals = sealCheck(options);
  const folded = await foldFileWith(path, { collectProblems: true, crossStream: true, ...tenantOption(options), ...(options.digest ? { digest: true } : {}) }, (foldOptions) => new SealedFold(foldOptions, path, seals));
  if (seals.deferred().length > 0) await readAgain(path, seals);
  // A tenant's events: the lines the fold took in, and the lines that are not events (whose tenant is unknown).
  const events = options.tenant === undefined ? folded.lines : (folded.read ?? 0) + folded.lineProblems.length;
  return { ...report(folded, folded.lineProblems, events, seals, options, path), streamStates: [...folded.streams.values()], ...(folded.digest !== undefined ? { digest: folded.digest } : {}) };
}

/** The fold's tenant option of verify's options. */
const tenantOption = (options: VerifyOptions): { readonly tenant?: string } => (options.tenant === undefined ? {} : { tenant: options.tenant });

export const sealCheck = (options: VerifyOptions): SealCheck => new SealCheck(options.sealKey, options.sealJournal !== undefined ? { journalLimit: options.sealJournal } : {});

/** The seals' second pass over a file read again (the lines that are not events were reported by the first). */
async function readAgain(path: string, seals: SealCheck): Promise<void> {
  const pass = seals.secondPass();
  for await (const { line, text } of readLines(path)) {
    let event;
    try {
      event = parseEventLine(text, line, path);
    } catch {
      continue;
    }
    pass.add(event, event.position ?? line);
  }
  pass.finish();
}

function report(folded: FoldResult, lineProblems: readonly HotpatchError[], events: number, seals: SealCheck, options: VerifyOptions, file: string | undefined): VerifyReport {
  const sealed = sealOutcome(seals, events, options.sealKey !== undefined, file);
  const problems = inLineOrder(lineProblems, [...folded.problems, ...sealed.problems]);
  return { ok: problems.length === 0, events, streams: folded.streams.size, problems, implications: folded.implications, hashed: folded.hashed, seals: sealed.report };
}

/** Lines that did not parse and events the fold refused, together in line order. */
function inLineOrder(lineProblems: readonly HotpatchError[], problems: readonly HotpatchError[]): HotpatchError[] {
  const lineOf = (e: HotpatchError) => (e as { at?: { line?: number } }).at?.line ?? 0;
  return [...lineProblems, ...problems].sort((a, b) => lineOf(a) - lineOf(b));
}
