/**
 * The answers this instance gave to agents' reports, by report id, with a digest of the report: the same id with the
 * same report gets the same answer again, the same id with another report a 409. A refusal is not kept (it wrote
 * nothing): sent again, the report is decided again. Bounded: the oldest receipts go first. Past it (and across a restart or another instance)
 * the log answers: a report whose events it holds is a duplicate, one reusing an id for other data is refused by
 * the store (EVENT_ID_REUSED).
 */
import { canonicalJson, sha256Hex } from '@hotpatch/store';

export interface Receipt {
  readonly digest: string;
  readonly body: unknown;
}

export const digestOf = (report: unknown): string => sha256Hex(canonicalJson(report));

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
