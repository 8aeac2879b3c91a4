/**
 * Verify's check of a log's seals (`SealCheck` of @hotpatch/store) beside its fold: the fold that feeds it every
 * event, and each seal that fails as a problem at the seal, with why.
 */
import { HotpatchError, LocatedError, type HotpatchEvent } from '@hotpatch/core';
import type { SealCheck, SealReport, SealVerdict } from '@hotpatch/store';
import { DiagnosingFold } from './diagnosis/diagnosing-fold.js';
import type { FoldOptions } from './fold.js';

/** A seal that does not pass: its signature, its number or its digest (each reason in `reasons`). */
export class SealFailedError extends LocatedError {
  readonly code = 'SEAL_FAILED';
  constructor(readonly seal: SealVerdict, file?: string) {
    super(
      { ...(file !== undefined ? { file } : {}), ...(seal.line !== undefined ? { line: seal.line } : { position: seal.position }), stream: seal.stream, version: seal.version },
      `seal ${seal.sequence} (covering position ${seal.covers}) fails: ${seal.problems.join('; ')}`,
    );
  }
}

/** A key was given to check seals with, and the log has none: nothing in it is sealed. */
export class NoSealError extends HotpatchError {
  readonly code = 'NO_SEAL';
  constructor(readonly events: number) {
    super(`a key was given, but the log holds no seal: none of its ${events} events is sealed (removed seals leave no trace when none is left after them)`);
  }
}

/** A DiagnosingFold that hands every event to a seal check first, at its position (or line, or index). */
export class SealedFold extends DiagnosingFold {
  private added = 0;
  constructor(
    options: FoldOptions,
    file: string | undefined,
    private readonly seals: SealCheck,
  ) {
    super(options, file);
  }

  override add(event: HotpatchEvent, line?: number): boolean {
    const index = this.added++;
    this.seals.add(event, event.position ?? line ?? index + 1, line);
    return super.add(event, line);
  }
}

/**
 * The seals' report for a log of `events` events, and its problems: every seal that fails, and none at all when a
 * key was given. A log folded without the check (in shards, which leave a log with seals to one thread) has none.
 */
export function sealOutcome(seals: SealCheck, events: number, keyGiven: boolean, file?: string): { report: SealReport; problems: HotpatchError[] } {
  const found = seals.result();
  const report = found.seals.length === 0 ? { ...found, uncovered: events } : found;
  const problems: HotpatchError[] = report.seals.filter((s) => s.problems.length > 0).map((s) => new SealFailedError(s, file));
  if (keyGiven && report.seals.length === 0 && events > 0) problems.push(new NoSealError(events));
  return { report, problems };
}

/** The seals as verify --json (and the service's /v1/verify) give them: each with its verdict. */
export interface SealsJson {
  readonly signatures: 'checked' | 'not checked';
  readonly keyId?: string;
  readonly count: number;
  readonly lastCovered: number | null;
  readonly uncovered: number;
  list: Array<Omit<SealVerdict, 'problems'> & { ok: boolean; problems: string[] }>;
}

/** The seals in verify's JSON: each with its verdict; undefined for a log without seals verified without a key. */
export function sealsJson(report: SealReport): SealsJson | undefined {
  const { seals, keyId, uncovered, lastCovered } = report;
  if (seals.length === 0 && keyId === undefined) return undefined;
  return {
    signatures: keyId !== undefined ? ('checked' as const) : ('not checked' as const),
    ...(keyId !== undefined ? { keyId } : {}),
    count: seals.length,
    lastCovered: lastCovered ?? null,
    uncovered,
    list: seals.map((s) => ({ ok: s.problems.length === 0, stream: s.stream, version: s.version, position: s.position, ...(s.line !== undefined ? { line: s.line } : {}), sequence: s.sequence, covers: s.covers, events: s.events, streams: s.streams, keyId: s.keyId, signature: s.signature, digest: s.digest, problems: [...s.problems] })),
  };
}
