/**
 * The live console's views kept between requests: for a tenant and a subject (a rollout, the fleet), the report's
 * collector (`reportCollector` of @hotpatch/report) and the log position it has read to. A request reads the
 * tenant's log after that position into it, then builds the report's data from it (`reportDataOf`): a refresh costs
 * the events since the last one and the drawing of the data, not a read of the whole log. A view serves one request
 * at a time. At most `max` views are kept (each holds a fleet projection and every device's band): the one asked
 * for least recently goes first, and is read whole again when asked for again.
 */
import { NothingToReportError, reportCollector, reportDataOf, type LogCollector, type ReportData } from '@hotpatch/report';
import { readLogPages } from '@hotpatch/store';
import type { Tenant } from './tenants.js';

export type ConsoleSubject = { readonly kind: 'rollout'; readonly id: string } | { readonly kind: 'fleet' };

interface View {
  readonly collector: LogCollector;
  position: number;
  turn: Promise<unknown>;
}

export class ConsoleViews {
  private readonly views = new Map<string, View>();

  constructor(private readonly max = 4) {}

  /** The subject's data as of the tenant's log now (null: the log holds nothing of it yet), and the position read to. */
  async data(tenant: Tenant, subject: ConsoleSubject): Promise<{ readonly position: number; readonly data: ReportData | null }> {
    const key = JSON.stringify([tenant.name, subject.kind, subject.kind === 'rollout' ? subject.id : '']);
    const source = `hotpatch serve, tenant ${tenant.name}`;
    let view = this.views.get(key);
    if (view === undefined) view = { collector: reportCollector({ subject, source }), position: 0, turn: Promise.resolve() };
    // The most recently asked last; the least recently asked dropped past the limit.
    this.views.delete(key);
    this.views.set(key, view);
    for (const old of this.views.keys()) if (this.views.size > this.max) this.views.delete(old);
    const v = view;
    const run = v.turn.then(async () => {
      try {
        for await (const page of readLogPages(tenant.store, { fromPosition: v.position + 1, pageSize: 1000 })) {
          for (const e of page) v.collector.add(e);
          v.position = page.at(-1)!.position;
        }
        return { position: v.position, data: await reportDataOf(v.collector, { subject, source }) };
      } catch (error) {
        // Nothing of it (an unknown rollout: not kept), or a read that failed midway (read again next time).
        if (!(error instanceof NothingToReportError) || subject.kind === 'rollout') this.drop(key, v);
        if (error instanceof NothingToReportError) return { position: v.position, data: null };
        throw error;
      }
    });
    v.turn = run.catch(() => undefined);
    return run;
  }

  private drop(key: string, view: View): void {
    if (this.views.get(key) === view) this.views.delete(key);
  }
}
