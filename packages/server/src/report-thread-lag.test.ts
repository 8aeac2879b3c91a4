/**
 * `hotpatch_projection_lag_events` and `/readyz`'s `lag` with the report thread: the events this instance appended
 * that its projection has not taken in yet. The worker's appends are taken in by the worker's own projection as it
 * writes them, so they are no lag: before, each report the worker recorded counted as lag on the serving thread until
 * its next tick read them (a second of reports under load: thousands of events, an alert on lag firing at every peak).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { RELEASE, threadedHarness } from './testing/report-thread.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

it.each([false, true])('a recorded report leaves no projection lag (report thread %s)', async (thread) => {
  const s = await threadedHarness(thread, ['l1', 'l2']);
  closing.push(s.close);
  for (const device of ['l1', 'l2']) {
    const r = await s.h.call('POST', '/v1/reports', { token: s.agents.get(device)!, body: { id: randomUUID(), kind: 'applied', device, patch: RELEASE.id } });
    expect(r).toMatchObject({ status: 200, body: { status: 'recorded' } });
  }
  expect((await s.h.call('GET', '/readyz')).body).toMatchObject({ ok: true, lag: 0 });
  expect((await s.h.call('GET', '/metrics')).body).toMatch(/^hotpatch_projection_lag_events 0$/m);
});
