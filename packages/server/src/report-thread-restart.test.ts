/**
 * A report thread that keeps dying soon after its start (report-thread.ts) is not started again at every report:
 * the first death is restarted at once, then each start waits longer (0.5 s, 1 s, … 30 s), the reports meanwhile 503
 * REPORT_THREAD_UNAVAILABLE saying when; once a worker starts, reports are answered again.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { restartDelayMs } from './report-thread.js';
import { closedAfterEach, RELEASE, threadedHarness } from './testing/report-thread.js';

const closing = closedAfterEach();

describe('the report thread restarting', () => {
  it('waits 0, 0.5, 1, 2 … up to 30 s after deaths in a row', () => {
    expect([1, 2, 3, 4, 5, 7, 8, 50].map(restartDelayMs)).toEqual([0, 500, 1_000, 2_000, 4_000, 16_000, 30_000, 30_000]);
  });

  it('is not started again at every report while it cannot start; answers again once it can', async () => {
    // The worker's store opens only while no `.fail` file stands beside the database; each try is counted.
    const body = "fs.appendFileSync(path + '.starts', 'x'); if (fs.existsSync(path + '.fail')) throw new Error('cannot open the store (test)'); return open(path);";
    const lines: Array<{ level: number; msg: string; why?: string }> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    const s = await threadedHarness(true, ['z1'], { logger: { level: 'info', stream } }, body);
    closing.push(s.close);
    const starts = () => (existsSync(`${s.path}.starts`) ? readFileSync(`${s.path}.starts`, 'utf8').length : 0);
    const report = () => s.h.call('POST', '/v1/reports', { token: s.agents.get('z1')!, body: { id: randomUUID(), kind: 'applied', device: 'z1', patch: RELEASE.id } });
    expect(starts()).toBe(1);
    writeFileSync(`${s.path}.fail`, '');
    await (s.h.app.hotpatch.reports as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await new Promise((r) => setTimeout(r, 50));
    // The first death: another starts at the next report (and cannot).
    const first = await report();
    expect([first.status, first.body.code, starts()]).toEqual([503, 'REPORT_THREAD_UNAVAILABLE', 2]);
    // Two in a row: the next waits 0.5 s; a report meanwhile starts none.
    const meanwhile = await report();
    expect([meanwhile.status, meanwhile.body.code, starts()]).toEqual([503, 'REPORT_THREAD_UNAVAILABLE', 2]);
    expect(meanwhile.body.detail).toMatch(/keeps stopping soon after its start \(2 in a row\): another is started at the first report in 1 s/);
    await new Promise((r) => setTimeout(r, 600));
    expect((await report()).status).toBe(503);
    expect(starts()).toBe(3);
    // The store can be opened again; the next start, 1 s after the last, answers.
    rmSync(`${s.path}.fail`);
    expect((await report()).status).toBe(503);
    expect(starts()).toBe(3);
    await new Promise((r) => setTimeout(r, 1_100));
    const back = await report();
    expect([back.status, starts()]).toEqual([200, 4]);
    // Logged as errors: the death, then each failed try to start again (two), with its cause.
    const errors = lines.filter((l) => l.level === 50 && /report thread stopped/.test(l.msg)).map((l) => l.why);
    expect(errors).toEqual([expect.stringMatching(/^exit code/), 'it did not start again: cannot open the store (test)', 'it did not start again: cannot open the store (test)']);
  });

  it('counts a worker that was up less than a minute as dying young, however long its start took', async () => {
    // The second start takes 0.4 s, during which the serving thread's clock moves 61 s (a projection's restore that
    // long); the worker then dies as soon as it is up: it ran no minute, so the next start waits (0.5 s).
    const body = "fs.appendFileSync(path + '.starts', 'x'); const slow = fs.existsSync(path + '.slow'); return slow ? new Promise((r) => setTimeout(r, 400)).then(() => open(path)) : open(path);";
    const s = await threadedHarness(true, ['z1'], {}, body);
    closing.push(s.close);
    const starts = () => readFileSync(`${s.path}.starts`, 'utf8').length;
    const report = () => s.h.call('POST', '/v1/reports', { token: s.agents.get('z1')!, body: { id: randomUUID(), kind: 'applied', device: 'z1', patch: RELEASE.id } });
    const thread = s.h.app.hotpatch.reports as unknown as { worker: { terminate(): Promise<number> } };
    const now = Date.now.bind(Date);
    let skew = 0;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now() + skew);
    try {
      await thread.worker.terminate();
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(`${s.path}.slow`, '');
      const answered = report();
      await new Promise((r) => setTimeout(r, 150));
      skew = 61_000;
      expect([(await answered).status, starts()]).toEqual([200, 2]);
      rmSync(`${s.path}.slow`);
      await thread.worker.terminate();
      await new Promise((r) => setTimeout(r, 50));
      const next = await report();
      expect([next.status, next.body.code, starts()]).toEqual([503, 'REPORT_THREAD_UNAVAILABLE', 2]);
    } finally {
      clock.mockRestore();
    }
  });

  it('does not say the workers all stopped within a minute when the first of them ran longer', async () => {
    const body = "fs.appendFileSync(path + '.starts', 'x'); if (fs.existsSync(path + '.fail')) throw new Error('cannot open the store (test)'); return open(path);";
    const s = await threadedHarness(true, ['z1'], {}, body);
    closing.push(s.close);
    const report = () => s.h.call('POST', '/v1/reports', { token: s.agents.get('z1')!, body: { id: randomUUID(), kind: 'applied', device: 'z1', patch: RELEASE.id } });
    const thread = s.h.app.hotpatch.reports as unknown as { worker: { terminate(): Promise<number> } };
    const now = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now() + 61_000);
    try {
      // Up for 61 s, then killed: restarted at once; that start fails: the next waits 0.5 s.
      writeFileSync(`${s.path}.fail`, '');
      await thread.worker.terminate();
      await new Promise((r) => setTimeout(r, 50));
      expect((await report()).status).toBe(503);
      const meanwhile = await report();
      expect([meanwhile.status, meanwhile.body.code]).toEqual([503, 'REPORT_THREAD_UNAVAILABLE']);
      expect(meanwhile.body.detail).not.toMatch(/within a minute/);
      expect(meanwhile.body.detail).toMatch(/keeps stopping soon after its start \(2 in a row\): another is started at the first report in 1 s/);
    } finally {
      clock.mockRestore();
    }
  });
});
