/**
 * The report thread (report-thread.ts): agents' reports decided and committed in a worker thread with a connection of
 * its own to the store. The service must answer and write as it does on one thread: the same answers, the same events
 * on each stream, whatever the order, the retries and the refusals (fast-check, seeded); the waiters woken by what the
 * worker writes; a worker that dies replaced; a close that loses no report answered.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reviveError, threadError } from './report-thread.js';
import { statusOf } from './problem.js';
import { closedAfterEach, RELEASE, threadedHarness, wholeLog } from './testing/report-thread.js';
import { readEvents } from './testing/sse-client.js';
import { DatabaseUnavailableError, EventIdReusedError } from '@hotpatch/store';

const DEVICES = ['d1', 'd2', 'd3'];
const all = wholeLog;
const closing = closedAfterEach();

async function service(thread: boolean, devices = DEVICES, options = {}) {
  const s = await threadedHarness(thread, devices, options);
  closing.push(s.close);
  return s;
}

/** A step of an agent: a report (new, or one sent before again, or its id reused with other content). */
type Step = { readonly kind: 'new'; readonly device: number; readonly report: number } | { readonly kind: 'again'; readonly step: number } | { readonly kind: 'reuse'; readonly step: number; readonly device: number };

const REPORTS = [
  (device: string) => ({ kind: 'applied', device, patch: RELEASE.id }),
  (device: string) => ({ kind: 'health', device, patch: RELEASE.id, healthy: true }),
  (device: string) => ({ kind: 'health', device, patch: RELEASE.id, healthy: false, signal: 'crash loop' }),
  (device: string) => ({ kind: 'apply-failed', device, patch: RELEASE.id, reason: 'E_HOTPATCH' }),
  (device: string) => ({ kind: 'applied', device, patch: 'HP-OTHER' }),
  (device: string) => ({ kind: 'rolled-back', device, patch: RELEASE.id }),
];

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('new' as const), device: fc.nat(DEVICES.length - 1), report: fc.nat(REPORTS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('again' as const), step: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reuse' as const), step: fc.nat(), device: fc.nat(DEVICES.length - 1) }) },
);

/** Sends the steps one after the other; the answers (status, code or body) and every stream's event types after. */
async function run(thread: boolean, steps: readonly Step[], ids: readonly string[]) {
  const { h, agents } = await service(thread);
  const sent: Array<Record<string, unknown>> = [];
  const answers: unknown[] = [];
  for (const [i, step] of steps.entries()) {
    let body: Record<string, unknown>;
    if (step.kind === 'new' || sent.length === 0) {
      const s = step.kind === 'new' ? step : { device: 0, report: 0 };
      body = { id: ids[i], ...REPORTS[s.report]!(DEVICES[s.device]!) };
    } else if (step.kind === 'again') body = sent[step.step % sent.length]!;
    else body = { ...REPORTS[1]!(DEVICES[step.device]!), id: sent[step.step % sent.length]!.id };
    sent.push(body);
    const r = await h.call('POST', '/v1/reports', { token: agents.get(body.device as string)!, body });
    answers.push(r.status === 200 ? { status: 200, body: r.body, replayed: r.headers.get('idempotent-replayed') } : { status: r.status, code: r.body.code });
  }
  const streams: Record<string, string[]> = {};
  for (const e of await all(h.store)) {
    if (e.stream.startsWith('token/') || e.stream.startsWith('seal')) continue;
    (streams[e.stream] ??= []).push(e.type);
  }
  return { answers, streams };
}

describe('the report thread', () => {
  it('answers and writes as the service on one thread: any order of reports, retries, reused ids and refusals (fast-check, seed 2207)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 14 }), async (steps) => {
        const ids = steps.map(() => randomUUID());
        const one = await run(false, steps, ids);
        const two = await run(true, steps, ids);
        expect(two.answers).toEqual(one.answers);
        expect(two.streams).toEqual(one.streams);
        for (const close of closing.splice(0)) await close();
      }),
      { seed: 2207, numRuns: 12 },
    );
  });

  it('writes in the worker, not on the serving thread: its appends counted and its events in the log', async () => {
    const { h, agents } = await service(true);
    expect(h.app.hotpatch.reports).toBeDefined();
    const appendedSoFar = async () => Number(/^hotpatch_appended_events_total (\d+)/m.exec((await h.call('GET', '/metrics')).body as string)?.[1]);
    const before = await appendedSoFar();
    const r = await h.call('POST', '/v1/reports', { token: agents.get('d1')!, body: { id: randomUUID(), kind: 'applied', device: 'd1', patch: RELEASE.id } });
    expect(r).toMatchObject({ status: 200, body: { status: 'recorded' } });
    const metrics = (await h.call('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/hotpatch_reports_total\{result="recorded"\} 1/);
    // The events the worker appended were told to this thread (the metrics count them: none were appended here).
    expect(r.body.events).toBeGreaterThan(0);
    expect((await appendedSoFar()) - before).toBe(r.body.events);
    const types = (await all(h.store)).filter((e) => e.stream === 'device/d1').map((e) => e.type);
    expect(types.at(-1)).toBe('PatchApplied');
  });

  it('wakes a live tail at once with what the worker wrote (the log follower polls only once a minute here)', async () => {
    const { h, agents } = await service(true, DEVICES, { followPollMs: 60_000 });
    const auditor = await h.token('auditor');
    const last = (await all(h.store)).at(-1)!.position;
    const tail = readEvents(`${h.url}/v1/events/stream`, auditor, 1, { 'last-event-id': String(last) });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    expect((await h.call('POST', '/v1/reports', { token: agents.get('d2')!, body: { id: randomUUID(), kind: 'applied', device: 'd2', patch: RELEASE.id } })).status).toBe(200);
    const [event] = await tail;
    expect(event!.data.stream).toBe('device/d2');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a worker that dies fails no later report: the next one starts another', async () => {
    const { h, agents } = await service(true);
    const thread = h.app.hotpatch.reports as unknown as { worker: { terminate(): Promise<number> } };
    await thread.worker.terminate();
    const r = await h.call('POST', '/v1/reports', { token: agents.get('d3')!, body: { id: randomUUID(), kind: 'applied', device: 'd3', patch: RELEASE.id } });
    expect(r).toMatchObject({ status: 200, body: { status: 'recorded' } });
  });

  it('a close with reports in flight: every report answered 200 is in the log, and the worker is gone', async () => {
    const devices = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const { h, agents, path } = await service(true, devices);
    const answers = devices.map((device) => h.call('POST', '/v1/reports', { token: agents.get(device)!, body: { id: randomUUID(), kind: 'applied', device, patch: RELEASE.id } }).catch(() => ({ status: 0 })));
    // Closed once the first is answered: the others are on their way, in the worker or waiting for it.
    await Promise.race(answers);
    const closed = h.app.close();
    const statuses = (await Promise.all(answers)).map((a) => a.status);
    await closed;
    const { openSqliteEventStore } = await import('@hotpatch/store-sqlite');
    const after = openSqliteEventStore({ path, readonly: true });
    try {
      const applied = new Set((await all(after)).filter((e) => e.type === 'PatchApplied').map((e) => e.stream));
      devices.forEach((device, i) => {
        if (statuses[i] === 200) expect(applied.has(`device/${device}`)).toBe(true);
      });
      expect(statuses.filter((s) => s === 200).length, JSON.stringify(statuses)).toBeGreaterThan(0);
    } finally {
      await after.close();
    }
    expect((h.app.hotpatch.reports as unknown as { worker: unknown }).worker).toBeUndefined();
  });

  it('refuses a clock given as an object beside it, in one line', async () => {
    const { startHarness } = await import('./testing/harness.js');
    await expect(startHarness({ reportThread: { openStore: { module: 'nowhere' } } })).rejects.toThrow(/reportThread: the report thread keeps the service's own clock/);
  });
});

describe('errors across the thread', () => {
  it('keep their code, their fields and their kind: the database away is still 503, a reused id still names its stream', () => {
    const away = reviveError(threadError(new DatabaseUnavailableError('hotpatch.db', 'database is locked')));
    expect(statusOf(away)).toBe(503);
    expect(away.message).toMatch(/database is locked/);
    const reused = reviveError(threadError(new EventIdReusedError('device/d1', randomUUID(), { version: 2, type: 'PatchApplied' }, 'PatchApplied', 'data')));
    expect(reused).toMatchObject({ code: 'EVENT_ID_REUSED', stream: 'device/d1', name: 'EventIdReusedError' });
    const bug = reviveError(threadError(new TypeError('x is undefined')));
    expect(statusOf(bug)).toBe(500);
  });
});
