/**
 * `hotpatch serve` over PostgreSQL when the database goes away under load and comes back (docs/service.md "When the
 * store is away"). The machine's PostgreSQL is not restarted (others use it): the service reaches its own database
 * through a TCP proxy in this process, which is cut (every connection destroyed, new ones refused) and restored.
 * While it is away: reports and writes 503 with a problem naming the store and Retry-After, /readyz 503, /healthz 200.
 * Once it is back, without a restart: ready again, the lease held again, the ticks on, the agents' retried reports
 * taken once, and the log verifies with its seals.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@hotpatch/server';
import { runNetworkAgents, type AgentsProgress } from '@hotpatch/simulator';
import { createPostgresEventStore } from '@hotpatch/store-postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { hotpatchBinary as hotpatch } from './testing/binary.js';
import { serveProcess, until } from './testing/serve-process.js';
import { startTcpProxy } from '../../store-postgres/test/tcp-proxy.js';

const pgUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!pgUrl) console.warn('serve-pg-restart.test.ts skipped: HOTPATCH_TEST_POSTGRES_URL is not set');

const PROFILE = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const BASELINE = 'B-2026-12';
// One ring, a few instructions per tick: the rollout is under way when the database goes, and goes on after.
const POLICY = { rings: [{ name: 'pilot', deferralDays: 0, budget: { percent: 100 }, gate: { minVerifiedShare: 0.8, maxFailureRate: 0.5, minSoakHours: 1 }, deadlineDays: 30 }], applyTimeoutMinutes: 6000, silenceHours: 4800, maxInstructionsPerTick: 2 };
const DEVICES = 40;
// Longer than the orchestration lease (10 s): the instance loses it while the database is away and takes it again.
const OUTAGE_MS = 14_000;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

function serve(cwd: string, store: string) {
  return serveProcess(cwd, ['--store', store, '--port', '0', '--tick-ms', '200', '--speed', '3600', '--policy', join(cwd, 'policy.json'), '--key', join(cwd, 'seal.pem')]);
}

describe.skipIf(!pgUrl)('hotpatch serve when PostgreSQL goes away under load and comes back', () => {
  it('answers 503 naming the store while it is away, recovers without a restart, takes retried reports once, and the log verifies', { timeout: 240_000 }, async () => {
    const database = `hotpatch_restart_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const direct = new URL(pgUrl!);
    direct.pathname = `/${database}`;
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    const dir = mkdtempSync(join(tmpdir(), 'hotpatch-pg-restart-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(POLICY));
    const store = await createPostgresEventStore({ connectionString: direct.href, max: 2, application_name: 'hotpatch-test' });
    const stopAgents = new AbortController();
    let s: ReturnType<typeof serve> | undefined;
    try {
      const operator = (await issueToken(store, { role: 'operator' })).token;
      const probeToken = (await issueToken(store, { role: 'agent', tenant: 'default', device: 'probe' })).token;
      s = serve(dir, viaProxy.href);
      const url = await s.listening;
      const pid = s.child.pid!;
      const storeAvailable = async () => Number(/^hotpatch_store_available (\d)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
      const logs = () => `stderr:\n${s!.err()}\nlast stdout:\n${s!.out().split('\n').slice(-15).join('\n')}`;
      const call = async (method: string, route: string, token?: string, body?: unknown) => {
        const response = await fetch(url + route, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        const text = await response.text();
        return { status: response.status, type: response.headers.get('content-type') ?? '', retryAfter: response.headers.get('retry-after'), replayed: response.headers.get('idempotent-replayed'), body: text === '' ? null : JSON.parse(text) };
      };

      // The probe device, the test's own agent: enrolled in the pilot ring before the rollout is planned.
      expect((await call('PUT', '/v1/devices/probe', probeToken, { ...PROFILE, ring: 'pilot', baseline: BASELINE })).status).toBe(201);
      let progress: AgentsProgress | undefined;
      const agents = runNetworkAgents({ server: url, token: operator, devices: DEVICES, seed: 22, speed: 3600, rings: ['pilot'], baseline: BASELINE, plan: true, wait: 5, attempts: 14, signal: stopAgents.signal, onProgress: (p) => (progress = p) });
      agents.catch(() => {});
      const instruction = await until('the probe instructed', 60_000, async () => {
        const answer = await call('GET', '/v1/devices/probe/instructions?wait=2', probeToken);
        return answer.status === 200 ? (answer.body as { action: string; patch: string; version: number }) : undefined;
      }, logs);
      expect(instruction.action).toBe('apply');
      await until('agents’ reports recorded', 60_000, async () => ((progress?.reports.recorded ?? 0) >= 3 ? true : undefined), logs);

      // The database goes away as in a restart: new connections refused, the service's sessions ended by the server
      // (FATAL 57P01 to each), then whatever is left of them cut.
      await proxy.cut(async () => {
        const ended = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'hotpatch-test'`, [database]);
        expect(ended.rowCount).toBeGreaterThan(0);
        await sleep(100);
      });
      const report = { kind: 'applied', id: randomUUID(), device: 'probe', patch: instruction.patch };
      const away = await until('/readyz answers 503', 20_000, async () => {
        const ready = await call('GET', '/readyz');
        return ready.status === 503 ? ready : undefined;
      }, logs);
      expect(away.type).toContain('application/problem+json');
      expect(away.retryAfter).toMatch(/^\d+$/);
      expect((await call('GET', '/healthz')).status).toBe(200);
      expect(await storeAvailable()).toBe(0);
      const refused = await call('POST', '/v1/reports', probeToken, report);
      expect(refused.status, JSON.stringify(refused.body)).toBe(503);
      expect(refused.type).toContain('application/problem+json');
      expect(refused.retryAfter).toMatch(/^\d+$/);
      expect(refused.body.store).toContain(database);
      expect(refused.body.detail).toContain(database);
      const write = await call('PUT', '/v1/devices/late', operator, { ...PROFILE, ring: 'pilot', baseline: BASELINE });
      expect(write.status, JSON.stringify(write.body)).toBe(503);
      expect(write.body.store).toContain(database);
      const cutAt = Date.now();
      while (Date.now() - cutAt < OUTAGE_MS) {
        expect((await call('GET', '/healthz')).status).toBe(200);
        expect((await call('GET', '/readyz')).status).toBe(503);
        await sleep(1_000);
      }
      expect(s.child.exitCode).toBe(null);
      // Nothing of the refused calls in the log.
      expect((await store.pool.query('SELECT 1 FROM hotpatch.events WHERE id = $1', [report.id])).rowCount).toBe(0);
      expect(await store.streamVersion('device/late')).toBe(0);

      // It comes back: the same process serves again.
      const instructedBefore = (await store.readAll({ fromPosition: 1 })).filter((e) => e.type === 'DeviceInstructed').length;
      await proxy.restore();
      await until('/readyz answers 200', 30_000, async () => ((await call('GET', '/readyz')).status === 200 ? true : undefined), logs);
      expect(s.child.pid).toBe(pid);
      expect(await storeAvailable()).toBe(1);
      const taken = await call('POST', '/v1/reports', probeToken, report);
      expect(taken.status, JSON.stringify(taken.body)).toBe(200);
      expect(taken.body.status).toBe('recorded');
      const again = await call('POST', '/v1/reports', probeToken, report);
      expect(again.status).toBe(200);
      expect(again.replayed).toBe('true');
      expect((await store.pool.query('SELECT 1 FROM hotpatch.events WHERE id = $1', [report.id])).rowCount).toBe(1);
      // The lease held again, by this instance, and the ticks go on: every device instructed, none twice.
      await until('the lease held again', 30_000, async () => {
        const { rows } = await store.pool.query<{ owner: string }>(`SELECT owner FROM hotpatch.leases WHERE name = 'orchestrator/default' AND expires_at > clock_timestamp()`);
        return rows[0]?.owner.includes(`/${pid}/`) ? true : undefined;
      }, logs);
      const instructed = await until('every device instructed', 90_000, async () => {
        const events = (await store.readAll({ fromPosition: 1 })).filter((e) => e.type === 'DeviceInstructed');
        return events.length >= DEVICES + 1 ? events : undefined;
      }, logs);
      expect(instructed.length).toBeGreaterThan(instructedBefore);
      const devices = instructed.map((e) => (e.data as { device: string }).device);
      expect(new Set(devices).size, 'a device instructed twice').toBe(devices.length);
      await until('agents’ reports recorded after the outage', 60_000, async () => ((progress?.reports.recorded ?? 0) >= DEVICES ? true : undefined), logs);
      stopAgents.abort();
      const done = await agents;
      expect(done.errors, JSON.stringify(done)).toBe(0);

      // The outage in the log: said once when it began and once when it ended, not at each call, tick or lease round
      // it failed (hundreds of stack traces a second under load).
      const lines = s.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(lines.filter((l) => l.msg.startsWith('the store cannot serve')).length, logs()).toBe(1);
      expect(lines.filter((l) => l.msg === 'the store serves again').length, logs()).toBe(1);
      expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([expect.stringMatching(/^the store cannot serve/)]);
      // Stopped in order, the log verifies, seals included.
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      const verified = await hotpatch('verify', '--store', `${direct.href}`, '--key', join(dir, 'seal.pem.pub'));
      expect(verified.code, verified.out + verified.err).toBe(0);
    } finally {
      stopAgents.abort();
      if (s !== undefined && s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
      await proxy.close();
      await store.close();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
