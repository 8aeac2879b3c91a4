/**
 * `hotpatch serve --report-thread on`: agents' reports decided and committed in a worker thread of the serving
 * process, with a connection of its own to the SQLite file. A rollout from enrolment to verified through it, the
 * checkpoint and seal at SIGTERM covering what the worker wrote (verify --key passes), and a bad value refused in one line.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hotpatchBinary as hotpatch } from './testing/binary.js';

const bin = new URL('../dist/bin.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hotpatch-serve-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROFILE = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };

describe('hotpatch serve --report-thread', () => {
  it('refuses a value other than on or off, in one line, with nothing made', async () => {
    const r = await hotpatch('serve', '--report-thread', 'yes', '--store', `sqlite:${join(dir, 'never.db')}`, '--port', '0');
    expect(r.code).toBe(2);
    // The CLI's usage errors: the error on its first line, then the synopsis.
    expect(r.err.split('\n')[0]).toBe('hotpatch serve: --report-thread: expected on or off, got "yes"');
    expect(existsSync(join(dir, 'never.db'))).toBe(false);
  });

  it('takes a device from instruction to verified with its reports decided in the thread; SIGTERM seals what it wrote', async () => {
    const db = join(dir, 'thread.db');
    const key = join(dir, 'seal.pem');
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--tick-ms', '100', '--store', `sqlite:${db}`, '--key', key, '--report-thread', 'on'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`serve exited before listening: ${err}`)));
    });
    const operator = { authorization: `Bearer ${/\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(err)![1]!}`, 'content-type': 'application/json' };
    const issued = await fetch(`${url}/v1/tokens`, { method: 'POST', headers: operator, body: JSON.stringify({ role: 'agent', device: 'd1' }) });
    const agent = { authorization: `Bearer ${((await issued.json()) as { token: string }).token}`, 'content-type': 'application/json' };
    expect((await fetch(`${url}/v1/devices/d1`, { method: 'PUT', headers: agent, body: JSON.stringify({ ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' }) })).status).toBe(201);
    const release = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: new Date().toISOString(), baseline: 'B-2026-01', liveRevert: true };
    expect((await fetch(`${url}/v1/rollouts`, { method: 'POST', headers: operator, body: JSON.stringify(release) })).status).toBe(201);
    const instruction = await fetch(`${url}/v1/devices/d1/instructions?wait=20`, { headers: agent });
    expect(instruction.status).toBe(200);
    const report = async (body: Record<string, unknown>) => {
      const r = await fetch(`${url}/v1/reports`, { method: 'POST', headers: agent, body: JSON.stringify({ id: randomUUID(), device: 'd1', patch: release.id, ...body }) });
      return { status: r.status, body: (await r.json()) as { status?: string; code?: string } };
    };
    expect(await report({ kind: 'applied' })).toMatchObject({ status: 200, body: { status: 'recorded' } });
    expect(await report({ kind: 'health', healthy: true })).toMatchObject({ status: 200, body: { status: 'recorded' } });
    // Refused by the lifecycle in the worker, answered as on one thread: a 409 problem naming why.
    expect(await report({ kind: 'applied', patch: 'HP-NEVER' })).toMatchObject({ status: 409, body: { code: 'REPORT_REFUSED' } });
    // The serving thread's projection reads what the worker wrote.
    const status = (await (await fetch(`${url}/v1/devices/d1`, { headers: operator })).json()) as { state?: unknown };
    expect(JSON.stringify(status)).toMatch(/verified/i);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const msgs = out.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(msgs.filter((m) => /checkpoint saved|log sealed/.test(m)).slice(-2)).toEqual(['checkpoint saved', 'log sealed']);
    const verified = await hotpatch('verify', '--store', `sqlite:${db}`, '--key', `${key}.pub`, '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true, seals: { signatures: 'checked', uncovered: 0 } });
    const history = await hotpatch('history', '--store', `sqlite:${db}`, '--device', 'd1', '--json');
    expect(history.out).toContain('PatchApplied');
  });
});
