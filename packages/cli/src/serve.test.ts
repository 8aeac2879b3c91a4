/**
 * `hotpatch serve` as a user runs it: a child process on a fresh SQLite store prints an operator token once, serves
 * with it, and on SIGTERM stops in order — a long-poll in flight answered, the orchestrator's checkpoint saved —
 * and exits 0. `hotpatch token create|revoke` write the store the service reads. The sealed log: `serve --key`
 * seals on a timer and after its last checkpoint; `verify --key` passes, and fails once the log is rewritten.
 */
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';
import { hotpatchBinary as hotpatch } from './testing/binary.js';
import { rewriteSqlite } from './testing/rewrite.js';

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
    // No warning a user would have to read past: a deprecated Fastify option (FSTDEP023) printed one at every start.
    expect(s.err()).not.toMatch(/Deprecation|Warning/);
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
    // The token used first (its state folded and kept by the service), then revoked by another process.
    expect((await fetch(`${url2}/v1/devices/d1/instructions`, { headers: { authorization: `Bearer ${agent.token}` } })).status).toBe(204);
    const revoked = await runCaptured(['token', 'revoke', agent.id, '--store', `sqlite:${join(dir, 'hotpatch.db')}`]);
    expect(revoked).toMatchObject({ code: 0, out: `token ${agent.id} revoked` });
    expect((await fetch(`${url2}/v1/devices/d1/instructions`, { headers: { authorization: `Bearer ${agent.token}` } })).status).toBe(401);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });

  it('logs the requests that fail, not every request; --log-requests logs every one; --state-cache takes a whole number', async () => {
    const logDir = mkdtempSync(join(dir, 'logs-'));
    // The operator token the first start prints, kept for the second.
    let token = '';
    const requests = async (args: string[]) => {
      const s = serve(logDir, ['--store', `sqlite:${join(logDir, 'l.db')}`, '--key', join(logDir, 'k.pem'), ...args]);
      const url = await s.listening;
      token = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(s.err())?.[1] ?? token;
      expect((await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${url}/v1/status`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      return s.out();
    };
    const quiet = await requests([]);
    expect(quiet).toMatch(/"msg":"the bearer token is not a hotpatch token/);
    expect(quiet).not.toMatch(/"msg":"(incoming request|request completed)"/);
    const every = await requests(['--log-requests', '--state-cache', '50000']);
    expect(every.match(/"msg":"request completed"/g)).toHaveLength(2);
    expect(every).toMatch(/"msg":"the bearer token is not a hotpatch token/);
    const bad = await runCaptured(['serve', '--store', `sqlite:${join(logDir, 'l.db')}`, '--state-cache', '0']);
    expect(bad).toMatchObject({ code: 2, err: expect.stringContaining('--state-cache: expected a whole number ≥ 1, got "0"') });
  });

  it('token: a scope that does not fit the role, or a token not in the store, is refused in one line, nothing written (no store made)', async () => {
    const store = `sqlite:${join(dir, 'scopes.db')}`;
    const r = await runCaptured(['token', 'create', '--role', 'operator', '--tenant', 'acme', '--store', store]);
    expect(r).toMatchObject({ code: 1, err: 'hotpatch token: an operator token acts for the service: no --tenant, no --device' });
    expect((await runCaptured(['token', 'create', '--role', 'root', '--store', store])).code).toBe(2);
    expect((await runCaptured(['token', 'revoke', '0123456789abcdef', '--store', store])).err).toBe('hotpatch token: no token 0123456789abcdef');
    expect(await runCaptured(['token', 'create', '--role', 'auditor', '--tenant', 'acme ', '--store', store])).toMatchObject({ code: 1, err: expect.stringMatching(/^hotpatch token: tenant "acme " begins or ends with a space, which the Hotpatch-Tenant header cannot carry \(HTTP trims it\)/) });
    // Not even the store the refused command would have made.
    for (const suffix of ['', '-wal', '-shm']) expect(existsSync(join(dir, `scopes.db${suffix}`)), `scopes.db${suffix}`).toBe(false);
    expect((await runCaptured(['token', 'create', '--role', 'operator', '--store', store])).code).toBe(0);
    expect(existsSync(join(dir, 'scopes.db'))).toBe(true);
  });

  it('seals its log (--key made on first start): on a timer, after its last checkpoint; verify --key passes, a rewrite fails', async () => {
    const sealDir = mkdtempSync(join(dir, 'sealed-'));
    const db = join(sealDir, 's.db');
    const key = join(sealDir, 'k.pem');
    const s = serve(sealDir, ['--store', `sqlite:${db}`, '--key', key, '--seal-ms', '1000']);
    const url = await s.listening;
    expect(s.err()).toContain(`made a seal key: ${key} (private, mode 0600); its public key ${key}.pub is what hotpatch verify --key takes`);
    const operator = { authorization: `Bearer ${/\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(s.err())![1]!}`, 'content-type': 'application/json' };
    const issued = await fetch(`${url}/v1/tokens`, { method: 'POST', headers: operator, body: JSON.stringify({ role: 'agent', device: 'd1' }) });
    expect(issued.status).toBe(201);
    const agent = ((await issued.json()) as { token: string }).token;
    const enrol = (device: string) =>
      fetch(`${url}/v1/devices/${device}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' },
        body: JSON.stringify({ edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B-2026-01' }),
      });
    expect((await enrol('d1')).status).toBe(201);
    // The timer's seal, shown by /v1/verify with the service's key.
    let verified: { ok: boolean; seals?: { signatures: string; count: number; list: Array<{ ok: boolean; signature: string }> } } = { ok: false };
    for (let i = 0; i < 100 && !(verified.seals?.count ?? 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      verified = (await (await fetch(`${url}/v1/verify`, { headers: operator })).json()) as typeof verified;
    }
    expect(verified).toMatchObject({ ok: true, seals: { signatures: 'checked' } });
    expect(verified.seals!.list.every((seal) => seal.ok && seal.signature === 'valid')).toBe(true);
    // Written after the timer's seal and just before the signal (the next timer's seal a second away): the seal that
    // follows the checkpoint saved at stop covers it.
    expect((await fetch(`${url}/v1/tokens`, { method: 'POST', headers: operator, body: JSON.stringify({ role: 'auditor' }) })).status).toBe(201);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const logs = s.out().trim().split('\n').map((line) => JSON.parse(line) as { msg: string; reason?: string });
    const msgs = logs.map((l) => (l.msg === 'log sealed' ? `sealed ${l.reason}` : l.msg)).filter((m) => /checkpoint saved|sealed/.test(m));
    expect(msgs.slice(-2)).toEqual(['checkpoint saved', 'sealed checkpoint']);
    expect(msgs).toContain('sealed timer');

    const text = await hotpatch('verify', '--store', `sqlite:${db}`, '--key', `${key}.pub`);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/\nseals: \d+ seals, checked with key [0-9a-f]{16}…: every one signed by it and matching the log up to the position it covers\n/);
    expect(text.out).toMatch(/\ncovered: every event is at or below position \d+, the last seal's\n/);
    const json = JSON.parse((await hotpatch('verify', '--store', `sqlite:${db}`, '--key', `${key}.pub`, '--json')).out);
    expect(json).toMatchObject({ ok: true, seals: { signatures: 'checked', uncovered: 0 } });
    expect(json.seals.count).toBe(logs.filter((l) => l.msg === 'log sealed').length);

    // Rewritten with every hash recomputed: the chain holds, the seals do not.
    const copy = join(sealDir, 'rewritten.db');
    copyFileSync(db, copy);
    await rewriteSqlite(copy, 0);
    const r = await hotpatch('verify', '--store', `sqlite:${copy}`, '--key', `${key}.pub`, '--json');
    expect(r.code).toBe(1);
    const problems = JSON.parse(r.out).problems as Array<{ code: string; message: string }>;
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.code === 'SEAL_FAILED' && /do not give its digest/.test(p.message))).toBe(true);
    // Served again on the same key: not made again, nothing printed of it.
    const again = serve(sealDir, ['--store', `sqlite:${db}`, '--key', key]);
    await again.listening;
    expect(again.err()).not.toMatch(/seal key/);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('refuses a key file that is not an Ed25519 private key in one line, nothing written', async () => {
    const badDir = mkdtempSync(join(dir, 'badkey-'));
    const rsa = join(badDir, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const r = await hotpatch('serve', '--store', `sqlite:${join(badDir, 'b.db')}`, '--port', '0', '--key', rsa);
    expect(r).toMatchObject({ code: 1, err: `hotpatch serve: ${rsa}: a rsa key, not Ed25519: seals are signed with Ed25519\n` });
    expect(existsSync(join(badDir, 'b.db'))).toBe(false);
    expect(existsSync(`${rsa}.pub`)).toBe(false);
    expect(readFileSync(rsa, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
  });

  it('a port already taken, or a host not of this machine, stops the start in one line (exit 3) before anything is written', async () => {
    const busyDir = mkdtempSync(join(dir, 'busy-'));
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
    const port = (taken.address() as { port: number }).port;
    const nothingWritten = () => {
      expect(existsSync(join(busyDir, 'b.db'))).toBe(false);
      expect(existsSync(join(busyDir, 'k.pem'))).toBe(false);
    };
    try {
      const r = await hotpatch('serve', '--store', `sqlite:${join(busyDir, 'b.db')}`, '--port', String(port), '--key', join(busyDir, 'k.pem'));
      expect(r).toMatchObject({ code: 3, err: `hotpatch serve: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n` });
      nothingWritten();
    } finally {
      taken.close();
    }
    // 256.1.1.1 is no address at all; 192.0.2.1 (TEST-NET-1) is one, but not this machine's.
    for (const [host, said] of [['256.1.1.1', /^hotpatch serve: getaddrinfo (ENOTFOUND|EAI_AGAIN) 256\.1\.1\.1\n$/], ['192.0.2.1', /^hotpatch serve: listen EADDRNOTAVAIL: address not available 192\.0\.2\.1\n$/]] as const) {
      const r = await hotpatch('serve', '--store', `sqlite:${join(busyDir, 'b.db')}`, '--host', host, '--port', '0', '--key', join(busyDir, 'k.pem'));
      expect(r.code).toBe(3);
      expect(r.err).toMatch(said);
      nothingWritten();
    }
  });

  it('a clock or timer it cannot keep (--speed past a day a second, --tick-ms or --seal-ms past a timer\'s 24.8 days) is a usage error, nothing written', async () => {
    const oddDir = mkdtempSync(join(dir, 'odd-'));
    for (const [flag, value] of [['--speed', '1e300'], ['--speed', '86401'], ['--tick-ms', '99999999999999999999'], ['--seal-ms', '2147483648']] as const) {
      const r = await hotpatch('serve', '--store', `sqlite:${join(oddDir, 'b.db')}`, flag, value, '--port', '0', '--key', join(oddDir, 'k.pem'));
      expect({ code: r.code, first: r.err.split('\n')[0] }).toEqual({ code: 2, first: expect.stringMatching(new RegExp(`^hotpatch serve: ${flag}: at most `)) });
      for (const file of ['b.db', 'k.pem']) expect(existsSync(join(oddDir, file)), file).toBe(false);
    }
  });

  it('--long-polls-per-token and --tails-per-token bound what one token holds open; out of bounds, a usage error, nothing written', async () => {
    const boundDir = mkdtempSync(join(dir, 'open-'));
    for (const [flag, value, said] of [
      ['--long-polls-per-token', '0', 'expected a whole number ≥ 1, got "0"'],
      ['--tails-per-token', 'many', 'expected a whole number ≥ 1, got "many"'],
      ['--long-polls-per-token', '10001', 'at most 10000, got 10001'],
      ['--tails-per-token', '1e3', 'expected a whole number ≥ 1, got "1e3"'],
    ] as const) {
      const r = await hotpatch('serve', '--store', `sqlite:${join(boundDir, 'b.db')}`, flag, value, '--port', '0', '--key', join(boundDir, 'k.pem'));
      expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: expect.stringMatching(new RegExp(`^hotpatch serve: ${flag}: ${said.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`)) });
      for (const file of ['b.db', 'k.pem']) expect(existsSync(join(boundDir, file)), file).toBe(false);
    }
    const s = serve(boundDir, ['--long-polls-per-token', '1', '--tails-per-token', '2']);
    try {
      const url = await s.listening;
      const operator = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(s.err())![1]!;
      const call = (path: string, token: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
      const tails = new AbortController();
      for (let i = 0; i < 2; i++) expect((await call('/v1/events/stream', operator, { signal: tails.signal })).status).toBe(200);
      const third = await call('/v1/events/stream', operator);
      expect({ status: third.status, body: await third.json() }).toMatchObject({ status: 429, body: { code: 'TOO_MANY_OPEN', holding: 'tail', bound: 2 } });
      tails.abort();
      const agent = ((await (await call('/v1/tokens', operator, { method: 'POST', body: JSON.stringify({ role: 'agent', device: 'd1' }) })).json()) as { token: string }).token;
      const enrol = await call('/v1/devices/d1', agent, { method: 'PUT', body: JSON.stringify({ edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B-2026-01' }) });
      expect(enrol.status).toBe(201);
      const polling = call('/v1/devices/d1/instructions?wait=2', agent);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await call('/v1/devices/d1/instructions?wait=2', agent);
      expect({ status: second.status, body: await second.json() }).toMatchObject({ status: 429, body: { code: 'TOO_MANY_OPEN', holding: 'long-poll', bound: 1 } });
      expect((await polling).status).toBe(204);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('a key it may not read, or a folder it may not write its key in: one line naming the key (not a temporary file), exit 3', async () => {
    // Permissions bind only a user other than root: as root, the binary runs as nobody (setpriv), else as the user.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    if (asUser.length > 0 && !existsSync('/usr/bin/setpriv')) return;
    const permDir = mkdtempSync(join(tmpdir(), 'hotpatch-serve-perm-'));
    const run = async (...argv: string[]) => {
      const { execFile } = await import('node:child_process');
      const command = [...asUser, process.execPath, bin, ...argv];
      return new Promise<{ code: number; err: string }>((resolve) => execFile(command[0]!, command.slice(1), (error, _out, err) => resolve({ code: (error as { code?: number } | null)?.code ?? 0, err })));
    };
    try {
      const { chmodSync, mkdirSync } = await import('node:fs');
      chmodSync(permDir, 0o755);
      const locked = join(permDir, 'locked');
      mkdirSync(locked, { mode: 0o555 });
      chmodSync(locked, 0o555);
      writeFileSync(join(permDir, 'theirs.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const store = `sqlite:${join(tmpdir(), `hotpatch-perm-${process.pid}.db`)}`;
      const made = await run('serve', '--store', store, '--key', join(locked, 'k.pem'), '--port', '0');
      expect(made).toEqual({ code: 3, err: `hotpatch serve: ${join(locked, 'k.pem')}: cannot be made there: permission denied\n` });
      const beside = await run('serve', '--store', `sqlite:${join(locked, 'b.db')}`, '--port', '0');
      expect(beside).toEqual({ code: 3, err: `hotpatch serve: ${join(locked, 'hotpatch-seal.pem')}: cannot be made there: permission denied\n` });
      if (asUser.length > 0) {
        const unread = await run('serve', '--store', store, '--key', join(permDir, 'theirs.pem'), '--port', '0');
        expect(unread).toEqual({ code: 3, err: `hotpatch serve: ${join(permDir, 'theirs.pem')}: cannot be read: permission denied\n` });
        // A store file it may not write, in a folder it may: refused before SQLite makes its -wal and -shm there.
        const open = join(permDir, 'open');
        mkdirSync(open, { mode: 0o777 });
        chmodSync(open, 0o777);
        const theirs = join(open, 'theirs.db');
        const db = openSqliteEventStore({ path: theirs });
        await db.close();
        const readOnly = await run('serve', '--store', `sqlite:${theirs}`, '--key', join(open, 'k.pem'), '--port', '0');
        expect(readOnly).toEqual({ code: 3, err: `hotpatch serve: ${theirs}: cannot be written: the file or its directory is read-only (a writer needs both: SQLite keeps its WAL journal beside the file)\n` });
        const { readdirSync } = await import('node:fs');
        expect(readdirSync(open)).toEqual(['theirs.db']);
      }
    } finally {
      rmSync(permDir, { recursive: true, force: true });
    }
  });

  it('--connect-timeout-ms bounds a PostgreSQL that accepts and never answers (default 3 s); the bounds are PostgreSQL\'s alone', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as { port: number }).port;
    const boundDir = mkdtempSync(join(dir, 'bound-'));
    try {
      const started = Date.now();
      const r = await hotpatch('serve', '--store', `postgres://postgres@127.0.0.1:${port}/x`, '--connect-timeout-ms', '200', '--query-timeout-ms', '500', '--port', '0', '--key', join(boundDir, 'k.pem'));
      expect(r).toMatchObject({ code: 3, err: `hotpatch serve: PostgreSQL database x at 127.0.0.1:${port} as postgres: cannot connect: the connection timed out\n` });
      expect(Date.now() - started).toBeLessThan(2500);
      expect(existsSync(join(boundDir, 'k.pem'))).toBe(false);
    } finally {
      silent.close();
    }
    const sqlite = `sqlite:${join(boundDir, 'b.db')}`;
    for (const [flag, value, said] of [
      ['--query-timeout-ms', '100', /^hotpatch serve: --query-timeout-ms applies to a PostgreSQL store/],
      ['--connect-timeout-ms', '-1', /^hotpatch serve: /],
    ] as const) {
      const r = await hotpatch('serve', '--store', sqlite, flag, value, '--port', '0');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(said);
    }
    for (const value of ['abc', '2147483648', '1.5']) {
      const r = await hotpatch('serve', '--store', 'postgres://postgres@127.0.0.1:1/x', '--query-timeout-ms', value, '--port', '0');
      expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/^hotpatch serve: --query-timeout-ms: expected a whole number of ms from 0 to 2147483647/) });
    }
    expect(existsSync(join(boundDir, 'b.db'))).toBe(false);
  });

  it('a store that cannot be opened stops the start in one line (exit 3), and the keys made for it are taken back', async () => {
    const badDir = mkdtempSync(join(dir, 'bad-store-'));
    const missing = join(badDir, 'missing', 'b.db');
    const r = await hotpatch('serve', '--store', `sqlite:${missing}`, '--port', '0', '--key', join(badDir, 'k.pem'), '--id-key', join(badDir, 'id.key'));
    expect(r).toMatchObject({ code: 3, err: `hotpatch serve: ${missing}: its directory does not exist\n` });
    for (const file of ['k.pem', 'k.pem.pub', 'id.key']) expect(existsSync(join(badDir, file)), file).toBe(false);
    // An id key that cannot be read, or is not one, takes back the seal key made before it, and writes no store.
    const keyDir = mkdtempSync(join(badDir, 'id-'));
    writeFileSync(join(keyDir, 'short.key'), 'short\n', { mode: 0o600 });
    for (const idKey of [keyDir, join(keyDir, 'short.key')]) {
      const bad = await hotpatch('serve', '--store', `sqlite:${join(keyDir, 'b.db')}`, '--port', '0', '--key', join(keyDir, 'k.pem'), '--id-key', idKey);
      expect({ code: bad.code, lines: bad.err.trimEnd().split('\n').length }).toEqual({ code: 3, lines: 1 });
      expect(bad.err).toMatch(/^hotpatch serve: --id-key /);
      for (const file of ['k.pem', 'k.pem.pub', 'b.db']) expect(existsSync(join(keyDir, file)), file).toBe(false);
    }
    // A key that was there before is kept.
    writeFileSync(join(badDir, 'id.key'), `${'a'.repeat(43)}\n`);
    expect((await hotpatch('serve', '--store', `sqlite:${missing}`, '--port', '0', '--id-key', join(badDir, 'id.key'), '--key', join(badDir, 'k.pem'))).code).toBe(3);
    expect(existsSync(join(badDir, 'id.key'))).toBe(true);
  });
});

