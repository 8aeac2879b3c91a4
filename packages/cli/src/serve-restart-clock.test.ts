/**
 * `hotpatch serve --speed K` stopped and started again on the same store, as a user watching a rollout does: the
 * service's clock goes on from the log's latest time, never back to the real time of its new start (which, after a
 * first run of t seconds, is about K·t behind what the log already holds: deadlines, soaks and device histories
 * would run backwards).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { serveProcess } from './testing/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hotpatch-serve-clock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const profile = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B-2026-01' };

async function enrol(url: string, operator: string, device: string): Promise<void> {
  const headers = { authorization: `Bearer ${operator}`, 'content-type': 'application/json' };
  const issued = await fetch(`${url}/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ role: 'agent', device }) });
  expect(issued.status).toBe(201);
  const { token } = (await issued.json()) as { token: string };
  const enrolled = await fetch(`${url}/v1/devices/${device}`, { method: 'PUT', headers: { ...headers, authorization: `Bearer ${token}` }, body: JSON.stringify(profile) });
  expect(enrolled.status).toBe(201);
}

describe('serve --speed, restarted on the same store', () => {
  it('never writes an event dated before one the log holds', async () => {
    const args = ['--port', '0', '--tick-ms', '100', '--speed', '86400', '--store', 'sqlite:fleet.db'];
    const first = serveProcess(dir, args);
    const url = await first.listening;
    const operator = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(first.err())![1]!;
    await new Promise((ok) => setTimeout(ok, 2_000)); // two days of the service's time
    await enrol(url, operator, 'd1');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = serveProcess(dir, args);
    try {
      await enrol(await second.listening, operator, 'd2');
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
    const store = openSqliteEventStore({ path: join(dir, 'fleet.db') });
    const events = await store.readAll();
    await store.close();
    const d1 = events.find((e) => e.stream === 'device/d1')!;
    const d2 = events.find((e) => e.stream === 'device/d2')!;
    expect(d2.time >= d1.time, `d1 enrolled at ${d1.time}, d2 after it at ${d2.time}`).toBe(true);
    // Tokens are dated in real time (the CLI issues them too, with no service clock): the fleet's events and seals.
    const timed = events.filter((e) => !e.stream.startsWith('token/'));
    expect(timed.map((e) => e.stream)).toEqual(expect.arrayContaining(['device/d1', 'device/d2', 'seal/log']));
    const back = timed.filter((e, i) => i > 0 && e.time < timed[i - 1]!.time).map((e) => `${e.position} ${e.stream} ${e.type} ${e.time}`);
    expect(back).toEqual([]);
  }, 60_000);

  it('started at speed 1 on a log a sped-up run wrote ahead of the real time: says so in one line', async () => {
    const first = serveProcess(dir, ['--port', '0', '--tick-ms', '100', '--speed', '86400', '--store', 'sqlite:later.db']);
    const url = await first.listening;
    const operator = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(first.err())![1]!;
    await new Promise((ok) => setTimeout(ok, 1_500));
    await enrol(url, operator, 'd1');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = serveProcess(dir, ['--port', '0', '--tick-ms', '100', '--store', 'sqlite:later.db']);
    try {
      await second.listening;
      expect(second.err().split('\n').filter((l) => /ahead/.test(l))).toEqual([
        expect.stringMatching(/^hotpatch serve: the log's latest event \(\d{4}-\d\d-\d\dT[\d:.]+Z\) is ahead of this clock by [\d.]+ days \(an earlier run with --speed\): what it writes now is dated before it; --speed K goes on from there$/),
      ]);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  }, 60_000);
});
