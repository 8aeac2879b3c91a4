/**
 * The README's three terminals, as processes: `hotpatch serve --speed 3600`, `hotpatch agents --plan` against it,
 * and `hotpatch status --server` — the rollout moves (the pilot instructed and answered, reports recorded), and what
 * the service answers is what `status --store` folds from the same log once the service has stopped.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const bin = new URL('../dist/bin.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hotpatch-agents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

async function until<T>(what: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('hotpatch agents against hotpatch serve', () => {
  it('enrols the devices, plans a rollout, answers the instructions; status --server is status --store of the same log', async () => {
    const serve = run(['serve', '--port', '0', '--speed', '3600', '--tick-ms', '100']);
    const url = await until(() => /listening on (http:\/\/\S+)/.exec(serve.err())?.[1], 20_000);
    const token = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(serve.err())![1]!;
    try {
      const agents = run(['agents', '--server', url, '--token', token, '--devices', '30', '--seed', '7', '--speed', '3600', '--plan', '--seconds', '12', '--json']);
      expect(await agents.exited).toBe(0);
      const done = JSON.parse(agents.out()) as { enrolled: number; instructions: number; rollout: string; reports: Record<string, number>; errors: number };
      expect(done).toMatchObject({ enrolled: 30, errors: 0 });
      expect(done.rollout).toMatch(/^HP-\d{4}-\d{2}-\d{2}$/);
      expect(done.instructions).toBeGreaterThan(0);
      expect(done.reports.recorded).toBeGreaterThan(0);

      const live = await runCaptured(['status', '--server', url, '--token', token, '--json']);
      expect(live.code).toBe(0);
      const status = JSON.parse(live.out);
      const rollout = status.rollouts.find((r: { release: string }) => r.release === done.rollout);
      expect(rollout.rings[0].succeeded + rollout.rings[0].failed).toBeGreaterThan(0);
      expect(status.devices).toBe(30);
      // The tick may move on between the two reads: the figures are compared once the service has stopped.
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      const offline = await runCaptured(['status', '--store', `sqlite:${join(dir, 'hotpatch.db')}`, '--json']);
      const again = JSON.parse(offline.out);
      expect(again.devices).toBe(30);
      expect(again.rollouts.map((r: { release: string }) => r.release)).toEqual(status.rollouts.map((r: { release: string }) => r.release));
      expect(again.rollouts[0].rings[0].devices).toBe(rollout.rings[0].devices);
    } finally {
      serve.child.kill('SIGKILL');
    }
  }, 60_000);

  it('stops when told, without waiting for reports due hours later (--speed 1)', async () => {
    const serve = run(['serve', '--port', '0', '--tick-ms', '100', '--store', `sqlite:${join(dir, 'slow.db')}`]);
    const url = await until(() => /listening on (http:\/\/\S+)/.exec(serve.err())?.[1], 20_000);
    const token = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(serve.err())![1]!;
    try {
      const started = Date.now();
      const agents = run(['agents', '--server', url, '--token', token, '--devices', '5', '--plan', '--seconds', '4', '--json']);
      expect(await agents.exited).toBe(0);
      // The pilot's applies are minutes of simulated time away at --speed 1: stopped, they count as lost.
      expect(Date.now() - started).toBeLessThan(15_000);
      const done = JSON.parse(agents.out()) as { instructions: number; reports: { lost: number } };
      expect(done.instructions).toBeGreaterThan(0);
      expect(done.reports.lost).toBeGreaterThan(0);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 30_000);

  it('refuses what makes no sense in one line, before calling anything', async () => {
    const r = await runCaptured(['agents', '--server', 'localhost:8080', '--token', 't']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe('hotpatch agents: --server: expected the service\'s URL (http://127.0.0.1:8080), got "localhost:8080"');
    // Both commands check --server alike: a URL that does not parse is a usage error too, before any call.
    for (const bad of ['localhost:8080', 'http://[::1', 'ftp://127.0.0.1:8080', 'http://127.0.0.1:8080/ x']) {
      for (const command of ['agents', 'status']) {
        const refused = await runCaptured([command, '--server', bad, '--token', 't']);
        expect(refused.code, `${command} --server ${bad}`).toBe(2);
        expect(refused.err.split('\n')[0]).toBe(`hotpatch ${command}: --server: expected the service's URL (http://127.0.0.1:8080), got ${JSON.stringify(bad)}`);
      }
    }
    expect((await runCaptured(['agents', '--server', 'http://127.0.0.1:1'])).err).toMatch(/--token/);
    expect((await runCaptured(['status', '--server', 'http://127.0.0.1:1', '--store', 'x.jsonl'])).code).toBe(2);
    expect((await runCaptured(['status', 'x.jsonl', '--token', 't'])).err).toMatch(/--token goes with --server/);
    // A service that does not answer is the environment (exit 3), in one line.
    const away = await runCaptured(['status', '--server', 'http://127.0.0.1:1', '--token', 't']);
    expect(away.code).toBe(3);
    expect(away.err.trim()).toMatch(/^hotpatch status: GET \/v1\/status\?target=0\.95: no answer after 3 attempts/);
  });

  it('an address with a user, query or fragment, or a token with a line break, is a usage error; a 200 that is not a status is one line', async () => {
    for (const bad of ['http://u:secret@127.0.0.1:1', 'http://127.0.0.1:1/?x=1', 'http://127.0.0.1:1/#top']) {
      for (const command of ['agents', 'status']) {
        const refused = await runCaptured([command, '--server', bad, '--token', 't', ...(command === 'agents' ? ['--devices', '1'] : [])]);
        expect({ code: refused.code, first: refused.err.split('\n')[0] }, `${command} ${bad}`).toEqual({ code: 2, first: expect.stringMatching(new RegExp(`^hotpatch ${command}: --server: the service's address alone, without a user, a query or a fragment`)) });
        expect(refused.err).not.toContain('secret');
      }
    }
    for (const command of ['agents', 'status']) {
      const refused = await runCaptured([command, '--server', 'http://127.0.0.1:1', '--token', 'hp_x\r\nX-Evil: 1', ...(command === 'agents' ? ['--devices', '1'] : [])]);
      expect({ code: refused.code, first: refused.err.split('\n')[0] }).toEqual({ code: 2, first: `hotpatch ${command}: --token: expected a token (hp_<id>_<secret>: printable characters, no space or line break)` });
    }
    // Something else answering at the address: 200 with JSON that is no status.
    const { createServer } = await import('node:http');
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}'));
    await new Promise<void>((ok) => other.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
      const r = await runCaptured(['status', '--server', url, '--token', 't']);
      expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: `hotpatch status: GET /v1/status: 200 the answer is not a hotpatch status: is ${url} a hotpatch service?` });
    } finally {
      other.close();
    }
  });

  it('a token the service refuses: one line naming the call and the problem', async () => {
    const serve = run(['serve', '--port', '0', '--store', `sqlite:${join(dir, 'other.db')}`]);
    const url = await until(() => /listening on (http:\/\/\S+)/.exec(serve.err())?.[1], 20_000);
    try {
      const r = await runCaptured(['agents', '--server', url, '--token', `hp_0123456789abcdef_${'A'.repeat(43)}`, '--devices', '2']);
      expect(r.code).toBe(1);
      expect(r.err.trim()).toMatch(/^hotpatch agents: POST \/v1\/tokens: 401 unknown token 0123456789abcdef$/);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 30_000);

  it('says in one line when the service’s clock runs at another speed than --speed (its timeouts would pass first)', async () => {
    const serve = run(['serve', '--port', '0', '--speed', '3600', '--store', `sqlite:${join(dir, 'speed.db')}`]);
    const url = await until(() => /listening on (http:\/\/\S+)/.exec(serve.err())?.[1], 20_000);
    const token = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(serve.err())![1]!;
    try {
      const slow = run(['agents', '--server', url, '--token', token, '--devices', '2', '--seconds', '2']);
      expect(await slow.exited).toBe(0);
      expect(slow.err().split('\n').filter((l) => /speed/.test(l))).toEqual([
        expect.stringMatching(/^hotpatch agents: the service's clock runs about [\d,]+ times faster than real time, these agents' --speed 1: start both with the same --speed \(the service's timeouts pass before the agents answer\)$/),
      ]);
      const same = run(['agents', '--server', url, '--token', token, '--devices', '2', '--seconds', '2', '--speed', '3600']);
      expect(await same.exited).toBe(0);
      expect(same.err()).not.toMatch(/speed/);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 30_000);

  it('run again with another seed or count: the device the service holds otherwise is named, in one line, with why', async () => {
    const serve = run(['serve', '--port', '0', '--store', `sqlite:${join(dir, 'again.db')}`]);
    const url = await until(() => /listening on (http:\/\/\S+)/.exec(serve.err())?.[1], 20_000);
    const token = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(serve.err())![1]!;
    try {
      const first = run(['agents', '--server', url, '--token', token, '--devices', '20', '--seed', '1', '--seconds', '1']);
      expect(await first.exited).toBe(0);
      const again = run(['agents', '--server', url, '--token', token, '--devices', '20', '--seed', '1', '--seconds', '1']);
      expect(await again.exited).toBe(0);
      const other = run(['agents', '--server', url, '--token', token, '--devices', '20', '--seed', '2', '--seconds', '1']);
      expect(await other.exited).toBe(1);
      // Stopped while enrolling (--seconds, or SIGINT): what they did, exit 0 — not 'POST /v1/tokens: stopped', exit 1.
      const stopped = run(['agents', '--server', url, '--token', token, '--devices', '3000', '--seconds', '1', '--tenant', 'big', '--json']);
      expect({ code: await stopped.exited, err: stopped.err() }).toMatchObject({ code: 0, err: expect.not.stringMatching(/stopped/) });
      expect((JSON.parse(stopped.out()) as { enrolled: number }).enrolled).toBeLessThan(3000);
      expect(other.err().trim()).toMatch(/^hotpatch agents: PUT \/v1\/devices\/dev-\d{5}: 409 dev-\d{5} is enrolled with another profile, ring or baseline \(agents run before against this service with another --seed, --devices, --rings or --baseline\?\): its enrolment stands; use another --tenant, or the same options$/);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 60_000);
});
