/**
 * `hotpatch serve` as a user runs it: a child process on a fresh SQLite store prints an operator token once, serves
 * with it, and on SIGTERM stops in order — a long-poll in flight answered, the orchestrator's checkpoint saved —
 * and exits 0. `hotpatch token create|revoke` write the store the service reads.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const bin = new URL('../dist/bin.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hotpatch-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `hotpatch serve` in `cwd`; resolves once it listens, with its address and what it printed on stderr. */
function serve(cwd: string, args: string[] = []) {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--tick-ms', '100', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`serve exited before listening: ${err}`)));
  });
  return { child, listening, exited, err: () => err, out: () => out };
}

describe('hotpatch serve', () => {
  it('starts on an empty store with an operator token, serves, and on SIGTERM saves its checkpoint and exits 0', async () => {
    const s = serve(dir);
    const url = await s.listening;
    const token = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(s.err())![1]!;
    expect((await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // An agent made by the CLI, into the store the service reads.
    const made = await runCaptured(['token', 'create', '--role', 'agent', '--device', 'd1', '--store', `sqlite:${join(dir, 'hotpatch.db')}`, '--json']);
    expect(made.code).toBe(0);
    const agent = JSON.parse(made.out) as { token: string; id: string; tenant: string };
    expect(agent.tenant).toBe('default');
    const enrol = await fetch(`${url}/v1/devices/d1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B-2026-01' }),
    });
    expect(enrol.status).toBe(201);
    // A long-poll in flight when the signal comes is answered (204), not cut.
    const polling = fetch(`${url}/v1/devices/d1/instructions?wait=30`, { headers: { authorization: `Bearer ${agent.token}` } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    s.child.kill('SIGTERM');
    expect((await polling).status).toBe(204);
    expect(await s.exited).toBe(0);
    expect(s.err()).toMatch(/SIGTERM: stopping/);
    expect(s.out()).toMatch(/"msg":"checkpoint saved"/);
    const store = openSqliteEventStore({ path: join(dir, 'hotpatch.db'), readonly: true });
    try {
      const saved = await store.readProjection('hotpatch-serve');
      expect(saved?.position).toBeGreaterThanOrEqual(4);
    } finally {
      await store.close();
    }
    // Started again: a token exists, none is printed; a revoked one is refused at once.
    const again = serve(dir);
    const url2 = await again.listening;
    expect(again.err()).not.toMatch(/operator token/);
    const revoked = await runCaptured(['token', 'revoke', agent.id, '--store', `sqlite:${join(dir, 'hotpatch.db')}`]);
    expect(revoked).toMatchObject({ code: 0, out: `token ${agent.id} revoked` });
    expect((await fetch(`${url2}/v1/devices/d1/instructions`, { headers: { authorization: `Bearer ${agent.token}` } })).status).toBe(401);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });

  it('token: a scope that does not fit the role is refused in one line, nothing written', async () => {
    const store = `sqlite:${join(dir, 'scopes.db')}`;
    const r = await runCaptured(['token', 'create', '--role', 'operator', '--tenant', 'acme', '--store', store]);
    expect(r).toMatchObject({ code: 1, err: 'hotpatch token: an operator token acts for the service: no --tenant, no --device' });
    expect((await runCaptured(['token', 'create', '--role', 'root', '--store', store])).code).toBe(2);
    expect((await runCaptured(['token', 'revoke', '0123456789abcdef', '--store', store])).err).toBe('hotpatch token: no token 0123456789abcdef');
  });
});
