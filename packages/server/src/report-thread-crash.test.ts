/**
 * The report thread dying (report-thread.ts) is the service's fault, not the store's: the reports it held answer 503
 * (send again) without naming the store as the one that cannot serve, `hotpatch_store_available` stays 1, and the
 * death is logged as an error with its cause, whether or not a report was in flight.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { RELEASE, threadedHarness } from './testing/report-thread.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

/** A service with the report thread whose log lines are kept. */
async function logged(devices: readonly string[]) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const s = await threadedHarness(true, devices, { logger: { level: 'info', stream } });
  closing.push(s.close);
  return { ...s, lines };
}

type Thread = { worker?: { terminate(): Promise<number> } };

describe('the report thread dying', () => {
  it('fails the reports it held with 503 that do not blame the store; the store stays available; the death is logged', async () => {
    const devices = Array.from({ length: 200 }, (_, i) => `x${i}`);
    const { h, agents, lines } = await logged(devices);
    const thread = h.app.hotpatch.reports as unknown as Thread;
    const answers = devices.map((device) => h.call('POST', '/v1/reports', { token: agents.get(device)!, body: { id: randomUUID(), kind: 'applied', device, patch: RELEASE.id } }));
    // Killed while it holds reports (once the first is answered: 30 ms was all of them on a fast machine): those not
    // answered yet get 503.
    await Promise.race(answers);
    await thread.worker!.terminate();
    const failed = (await Promise.all(answers)).filter((a) => a.status !== 200);
    expect(failed.length).toBeGreaterThan(0);
    for (const a of failed) {
      expect(a.status).toBe(503);
      expect(a.body.code).toBe('REPORT_THREAD_UNAVAILABLE');
      // Not the store's outage: the store served throughout.
      expect(a.body.store).toBeUndefined();
      expect(a.body.detail).not.toMatch(/^the store /);
    }
    const metrics = (await h.call('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^hotpatch_store_available 1$/m);
    expect(lines.some((l) => /the store cannot serve/.test(String(l.msg)))).toBe(false);
    expect(lines.some((l) => l.level === 50 && /report thread/.test(String(l.msg)))).toBe(true);
  });

  it('is logged when it dies holding no report (the next report starts another)', async () => {
    const { h, agents, lines } = await logged(['y1']);
    const thread = h.app.hotpatch.reports as unknown as Thread;
    await thread.worker!.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.filter((l) => l.level === 50 && /report thread/.test(String(l.msg))).length).toBe(1);
    const r = await h.call('POST', '/v1/reports', { token: agents.get('y1')!, body: { id: randomUUID(), kind: 'applied', device: 'y1', patch: RELEASE.id } });
    expect(r.status).toBe(200);
  });
});
