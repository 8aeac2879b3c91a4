/**
 * The live console's views kept between requests: for a tenant and a subject (a rollout, the fleet), the report's
 * collector (`reportCollector` of @hotpatch/report) and the log position it has read to. A request reads the
 * tenant's log after that position into it, then builds the report's data from it (`reportDataOf`): a refresh costs
 * the events since the last one and the drawing of the data, not a read of the whole log. A view serves one request
 * at a time. At most `max` views are kept (each holds a fleet projection and every device's band): the one asked
 * for least recently goes first, and is read whole again when asked for again. Views read whole (a first read) are read
 * one at a time, so that requests for many at once hold one such read, not one each. A device is drawn from the fleet's
 * view (the same collector `hotpatch report --device` reads the log into) with its history read to the same position.
 */
import { NothingToReportError, reportCollector, reportDataOf, type LogCollector, type ReportData } from '@hotpatch/report';
import { readLogPages } from '@hotpatch/store';
import { tenantDeviceHistory } from './device-history.js';
import type { Tenant } from './tenants.js';

export type ConsoleSubject = { readonly kind: 'rollout'; readonly id: string } | { readonly kind: 'device'; readonly id: string } | { readonly kind: 'fleet' };

interface View {
  readonly collector: LogCollector;
  position: number;
  turn: Promise<unknown>;
}

export class ConsoleViews {
  private readonly views = new Map<string, View>();
  /** First reads (a view's log read whole) one at a time: each holds what a report holds while it reads. */
  private firstReads: Promise<unknown> = Promise.resolve();

  constructor(private readonly max = 4) {}

  /** The subject's data as of the tenant's log now (null: the log holds nothing of it yet), and the position read to. */
  async data(tenant: Tenant, subject: ConsoleSubject): Promise<{ readonly position: number; readonly data: ReportData | null }> {
    // A device's view is the fleet's: its collector reads the whole log, as the report's of a device does.
    const read: { readonly kind: 'rollout'; readonly id: string } | { readonly kind: 'fleet' } = subject.kind === 'device' ? { kind: 'fleet' } : subject;
    const key = JSON.stringify([tenant.name, read.kind, read.kind === 'rollout' ? read.id : '']);
    const source = `hotpatch serve, tenant ${tenant.name}`;
    let view = this.views.get(key);
    if (view === undefined) view = { collector: reportCollector({ subject: read, source }), position: 0, turn: Promise.resolve() };
    // The most recently asked last; the least recently asked dropped past the limit.
    this.views.delete(key);
    this.views.set(key, view);
    for (const old of this.views.keys()) if (this.views.size > this.max) this.views.delete(old);
    const v = view;
    const run = v.turn.then(() => (v.position === 0 ? this.oneAtATime(() => this.read(tenant, subject, key, v, source)) : this.read(tenant, subject, key, v, source)));
    v.turn = run.catch(() => undefined);
    return run;
  }

  private oneAtATime<T>(read: () => Promise<T>): Promise<T> {
    const run = this.firstReads.then(read);
    this.firstReads = run.catch(() => undefined);
    return run;
  }

  /** Reads the tenant's log on into the view, then gives the subject's data from it. */
  private async read(tenant: Tenant, subject: ConsoleSubject, key: string, v: View, source: string): Promise<{ readonly position: number; readonly data: ReportData | null }> {
    try {
      for await (const page of readLogPages(tenant.store, { fromPosition: v.position + 1, pageSize: 1000 })) {
        for (const e of page) v.collector.add(e);
        v.position = page.at(-1)!.position;
      }
      if (subject.kind !== 'device') return { position: v.position, data: await reportDataOf(v.collector, { subject, source }) };
      // Its history as `history --device` gives it, read to the position the view is read to: no event of it past the bands.
      const history = await tenantDeviceHistory(tenant, subject.id, v.position);
      return { position: v.position, data: history.length === 0 ? null : await reportDataOf(v.collector, { subject: { ...subject, history }, source }) };
    } catch (error) {
      // Nothing of it (an unknown rollout: not kept), or a read that failed midway (read again next time).
      if (!(error instanceof NothingToReportError) || subject.kind === 'rollout') this.drop(key, v);
      if (error instanceof NothingToReportError) return { position: v.position, data: null };
      throw error;
    }
  }

  private drop(key: string, view: View): void {
    if (this.views.get(key) === view) this.views.delete(key);
  }
}
