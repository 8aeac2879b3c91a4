/**
 * Verifying a store's log as it is read, page by page, never held whole: every event as verify checks a file's (a
 * store hashes every event it writes: one without a hash is a problem), then the store's record of each stream's
 * head. Events removed from the end of a stream leave no hole in its chain, but the head no longer matches its last
 * event; a last event whose hash did not match is told apart by it, as by a next event.
 */
import { InvalidEventError, isOfTenant, type HotpatchEvent } from '@hotpatch/core';
import { readLogPages, type EventStore, type SealCheck } from '@hotpatch/store';
import { SealedFold, sealOutcome } from './seals.js';
import { sealCheck, type VerifiedLog, type VerifyOptions } from './verify.js';

export class StoreVerification {
  private readonly seals: SealCheck;
  private readonly fold: SealedFold;
  /** Each stream's last event as read: its version and position. */
  private readonly last = new Map<string, { readonly version: number; readonly position: number | undefined }>();
  private events = 0;
  private headProblems: InvalidEventError[] = [];

  /** `tenant`: verify only that tenant's streams (see FoldOptions.tenant), their heads included; the whole log without. */
  constructor(private readonly options: VerifyOptions = {}) {
    this.seals = sealCheck(options);
    this.fold = new SealedFold({ collectProblems: true, hashes: 'every', crossStream: true, ...(options.tenant !== undefined ? { tenant: options.tenant } : {}) }, undefined, this.seals);
  }

  /** The log's next page, in global order. */
  add(page: readonly HotpatchEvent[]): void {
    for (const e of page) {
      // Every event to the fold, whose seal check vouches for the whole log; a tenant's alone folded and counted.
      this.fold.add(e);
      if (this.options.tenant !== undefined && !isOfTenant(e.stream, this.options.tenant)) continue;
      this.last.set(e.stream, { version: e.version, position: e.position });
      this.events++;
    }
  }

  /** The verification, once the log is read (and its heads checked, when the store keeps them). */
  result(): VerifiedLog {
    const folded = this.fold.result();
    const sealed = sealOutcome(this.seals, this.events, this.options.sealKey !== undefined);
    const problems = [...folded.problems, ...this.headProblems, ...sealed.problems];
    return { ok: problems.length === 0, events: this.events, streams: folded.streams.size, problems, implications: folded.implications, hashed: this.events > 0, streamStates: [...folded.streams.values()], seals: sealed.report };
  }

  /**
   * Once the log is read: the seals that cover a position further back than the seal check's journal reaches are
   * judged from the store's log read again (most logs need nothing of it).
   */
  async checkSeals(store: EventStore): Promise<void> {
    if (this.seals.deferred().length === 0) return;
    const pass = this.seals.secondPass();
    for await (const page of readLogPages(store)) for (const event of page) pass.add(event, event.position);
    pass.finish();
  }

  /** The store's record of each stream's last hash, once the log is read. */
  checkHeads(streamHeads: Iterable<readonly [stream: string, hash: string]>): void {
    const heads = new Map([...streamHeads].filter(([stream]) => this.options.tenant === undefined || isOfTenant(stream, this.options.tenant)));
    const problems: InvalidEventError[] = [];
    for (const [stream, hash] of heads) {
      // The stream's last event as the fold followed it (an event it refused as a repeat is not its end).
      const folded = this.fold.streams.get(stream);
      const last = this.last.get(stream);
      const end = folded && { hash: folded.hash, version: folded.version, position: last?.version === folded.version ? last.position : undefined };
      // A head that tells what happened to a last event whose hash did not match is part of that problem.
      if (this.fold.concludeByHead(stream, hash)) continue;
      if (end?.hash === hash) continue;
      problems.push(
        new InvalidEventError(
          { stream, ...(end?.position !== undefined ? { position: end.position } : {}), ...(end ? { version: end.version } : {}) },
          end ? `the store's head of ${stream} does not match its last event: events were removed from its end, or the head was changed` : `the store has a head for ${stream} but no events`,
          'hash',
        ),
      );
    }
    for (const stream of this.last.keys()) if (!heads.has(stream)) problems.push(new InvalidEventError({ stream }, `events of ${stream} are not in the store's heads: they were inserted behind its back`, 'stream'));
    this.headProblems = problems;
  }
}
