/**
 * The answers this instance gave to agents' reports, by report id, with a digest of the report: the same id with the
 * same report gets the same answer again, the same id with another report a 409. A refusal is not kept (it wrote
 * nothing): sent again, the report is decided again. Bounded: the oldest receipts go first. Past it (and across a restart or another instance)
 * the log answers: a report whose events it holds is a duplicate, one reusing an id for other data is refused by
 * the store (EVENT_ID_REUSED).
 */
import crypto, { createHash } from 'node:crypto';
import { canonicalJson } from '@hotpatch/store';

export interface Receipt {
  readonly digest: string;
  readonly body: unknown;
}

// Node's one-shot crypto.hash (20.12+, 21.7+) where there is one: every report's digest is taken.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
export const digestOf = (report: unknown): string => (oneShot ? oneShot('sha256', canonicalJson(report), 'hex') : createHash('sha256').update(canonicalJson(report)).digest('hex'));

export class Receipts {
  private readonly byId = new Map<string, Receipt>();
  constructor(private readonly max = 100_000) {}

  get(id: string): Receipt | undefined {
    return this.byId.get(id);
  }

  set(id: string, receipt: Receipt): void {
    this.byId.delete(id);
    this.byId.set(id, receipt);
    if (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
  }
}
