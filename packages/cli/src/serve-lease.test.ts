/**
 * Several `hotpatch serve` processes over one PostgreSQL schema (docs/service.md "Several instances"): each tenant's
 * orchestration is held by one live instance at a time, spread over them; `kill -9` of an owner mid-rollout, and
 * within 15 s the others hold its tenants and the rollouts go on, no device instructed twice. A revoked token is
 * refused at once by every instance, though each has used it (its state kept in the instance's state cache).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@hotpatch/server';
import { createPostgresEventStore } from '@hotpatch/store-postgres';
import { describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';
import { serveProcess, until } from './testing/serve-process.js';

const pgUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!pgUrl) console.warn('serve-lease.test.ts skipped: HOTPATCH_TEST_POSTGRES_URL is not set (several serve instances need PostgreSQL)');

const PROFILE = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const RELEASE = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true };
// One ring, one instruction per tick: a rollout of DEVICES devices takes DEVICES ticks, time enough to kill an owner mid-way.
const POLICY = { rings: [{ name: 'pilot', deferralDays: 0, budget: { percent: 100 }, gate: { minVerifiedShare: 0.8, maxFailureRate: 0.1, minSoakHours: 24 }, deadlineDays: 5 }], applyTimeoutMinutes: 600, silenceHours: 480, maxInstructionsPerTick: 1 };
const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];
const DEVICES = 24;

function serve(cwd: string, store: string) {
  return serveProcess(cwd, ['--store', store, '--port', '0', '--tick-ms', '1000', '--policy', join(cwd, 'policy.json'), '--key', join(cwd, 'seal.pem')]);
}

describe.skipIf(!pgUrl)('hotpatch serve, several instances over PostgreSQL', () => {
  it('spreads the tenants’ orchestration; a killed owner’s tenants are taken within 15 s; no device instructed twice', { timeout: 180_000 }, async () => {
    const schema = `serve_lease_${randomBytes(4).toString('hex')}`;
    const storeUrl = `${pgUrl}${pgUrl!.includes('?') ? '&' : '?'}schema=${schema}`;
    const dir = mkdtempSync(join(tmpdir(), 'hotpatch-serve-lease-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(POLICY));
    const store = await createPostgresEventStore({ connectionString: pgUrl!, schema, max: 2 });
    const instances: ReturnType<typeof serve>[] = [];
    try {
      const operator = (await issueToken(store, { role: 'operator' })).token;
      for (let i = 0; i < 3; i++) {
        const s = serve(dir, storeUrl);
        instances.push(s);
        await s.listening;
      }
      const urls = await Promise.all(instances.map((s) => s.listening));
      // Any instance answers any request: each call goes to the next one (a round-robin load balancer).
      let next = 0;
      const call = async (method: string, route: string, token: string, body?: unknown, tenant?: string) => {
        const url = urls[next++ % urls.length]!;
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(tenant ? { 'hotpatch-tenant': tenant } : {}) };
        const response = await fetch(url + route, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        return { status: response.status, body: response.status === 204 ? null : await response.json() };
      };
      for (const tenant of TENANTS) {
        for (let d = 0; d < DEVICES; d++) {
          const token = (await call('POST', '/v1/tokens', operator, { role: 'agent', tenant, device: `d${d}` })).body.token as string;
          expect((await call('PUT', `/v1/devices/d${d}`, token, { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' })).status).toBe(201);
        }
      }
      for (const tenant of TENANTS) expect((await call('POST', '/v1/rollouts', operator, RELEASE, tenant)).status).toBe(201);

      const holders = async () => {
        const { rows } = await store.pool.query<{ name: string; owner: string }>(`SELECT name, owner FROM "${schema}".leases WHERE expires_at > clock_timestamp() AND name LIKE 'orchestrator/%'`);
        return new Map(rows.map((r) => [r.name.slice('orchestrator/'.length), Number(r.owner.split('/')[1])]));
      };
      const instructed = async () => {
        const counts = new Map<string, number>();
        for (const e of await store.readAll({ fromPosition: 1 })) if (e.type === 'DeviceInstructed') counts.set(e.stream, (counts.get(e.stream) ?? 0) + 1);
        return counts;
      };
      const instructedIn = (counts: Map<string, number>, tenant: string) => [...counts].filter(([stream]) => stream.includes(`${tenant}/`)).reduce((n, [, c]) => n + c, 0);

      // Each tenant held by one live instance, spread: every instance holds at most its share of the five (default + 4).
      const pids = instances.map((s) => s.child.pid!);
      const spread = await until('the tenants spread over the three instances', 20_000, async () => {
        const held = await holders();
        if (held.size !== TENANTS.length + 1) return undefined;
        const per = pids.map((pid) => [...held.values()].filter((p) => p === pid).length);
        return per.every((n) => n >= 1 && n <= 2) ? held : undefined;
      });
      for (const pid of spread.values()) expect(pids).toContain(pid);

      // Mid-rollout: some instructed, not all.
      const before = await until('rollouts under way', 30_000, async () => {
        const counts = await instructed();
        return TENANTS.every((t) => instructedIn(counts, t) >= 2) ? counts : undefined;
      });
      const victim = TENANTS.map((t) => spread.get(t)!).find((pid) => pid !== undefined)!;
      const orphans = TENANTS.filter((t) => spread.get(t) === victim);
      expect(orphans.length).toBeGreaterThan(0);
      for (const t of orphans) expect(instructedIn(before, t)).toBeLessThan(DEVICES);
      const killedAt = Date.now();
      instances.find((s) => s.child.pid === victim)!.child.kill('SIGKILL');

      await until('the killed instance’s tenants held by the others', 15_000, async () => {
        const held = await holders();
        return orphans.every((t) => held.has(t) && held.get(t) !== victim) ? true : undefined;
      });
      const takenInMs = Date.now() - killedAt;
      console.info(`serve-lease: the killed instance’s tenants (${orphans.join(", ")}) taken in ${takenInMs} ms`);
      expect(takenInMs).toBeLessThan(15_000);

      // The rollouts go on to every device, each instructed once.
      const after = await until('every device instructed', 90_000, async () => {
        const counts = await instructed();
        return TENANTS.every((t) => instructedIn(counts, t) >= DEVICES) ? counts : undefined;
      });
      for (const t of TENANTS) expect(instructedIn(after, t), t).toBe(DEVICES);
      const seen = new Set<string>();
      for (const e of await store.readAll({ fromPosition: 1 })) {
        if (e.type !== 'DeviceInstructed') continue;
        const key = `${e.stream} ${(e.data as { device: string }).device}`;
        expect(seen.has(key), `${key} instructed twice`).toBe(false);
        seen.add(key);
      }
      expect(seen.size).toBe(TENANTS.length * DEVICES);
      // Ticked by one instance at a time: a tenant's instructions change writer (the meta's instance) only when its
      // lease changed hands, which moved its epoch.
      const { rows } = await store.pool.query<{ name: string; epoch: string }>(`SELECT name, epoch FROM "${schema}".leases WHERE name LIKE 'orchestrator/%'`);
      const epochs = new Map(rows.map((r) => [r.name.slice('orchestrator/'.length), Number(r.epoch)]));
      const writers = new Map<string, string[]>();
      for (const e of await store.readAll({ fromPosition: 1 })) {
        if (e.type !== 'DeviceInstructed') continue;
        const tenant = TENANTS.find((t) => e.stream.includes(`${t}/`))!;
        const runs = writers.get(tenant) ?? [];
        const instance = String(e.meta?.instance);
        if (runs.at(-1) !== instance) runs.push(instance);
        writers.set(tenant, runs);
      }
      for (const t of TENANTS) expect(writers.get(t)!.length, `${t}: writers ${writers.get(t)!.join(' → ')}, epoch ${epochs.get(t)}`).toBeLessThanOrEqual(epochs.get(t)!);

      // A stopped instance (SIGTERM) releases its leases at once, its own included.
      const survivor = instances.find((s) => s.child.pid !== victim)!;
      survivor.child.kill('SIGTERM');
      expect(await new Promise((ok) => survivor.child.on('exit', ok))).toBe(0);
      const { rows: left } = await store.pool.query<{ name: string }>(`SELECT name FROM "${schema}".leases WHERE expires_at > clock_timestamp() AND owner LIKE $1`, [`%/${survivor.child.pid}/%`]);
      expect(left).toEqual([]);
    } finally {
      for (const s of instances) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
      await Promise.all(instances.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? new Promise((ok) => s.child.on('exit', ok)) : undefined)));
      await store.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a token each instance has used is refused by every instance at its next request, revoked by the API or the CLI', { timeout: 60_000 }, async () => {
    const schema = `serve_revoke_${randomBytes(4).toString('hex')}`;
    const storeUrl = `${pgUrl}${pgUrl!.includes('?') ? '&' : '?'}schema=${schema}`;
    const dir = mkdtempSync(join(tmpdir(), 'hotpatch-serve-revoke-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(POLICY));
    const store = await createPostgresEventStore({ connectionString: pgUrl!, schema, max: 2 });
    const instances: ReturnType<typeof serve>[] = [];
    try {
      const operator = (await issueToken(store, { role: 'operator' })).token;
      const agents = [await issueToken(store, { role: 'agent', tenant: 'default', device: 'd1' }), await issueToken(store, { role: 'agent', tenant: 'default', device: 'd2' })];
      for (let i = 0; i < 2; i++) instances.push(serve(dir, storeUrl));
      const urls = await Promise.all(instances.map((s) => s.listening));
      const poll = (url: string, agent: { token: string }, device: string) => fetch(`${url}/v1/devices/${device}/instructions`, { headers: { authorization: `Bearer ${agent.token}` } }).then((r) => r.status);
      for (const [i, agent] of agents.entries()) {
        const device = `d${i + 1}`;
        const enrol = await fetch(`${urls[0]}/v1/devices/${device}`, { method: 'PUT', headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' }) });
        expect(enrol.status).toBe(201);
        // Each instance authenticates the token (and keeps its state), twice.
        for (const url of urls) for (let k = 0; k < 2; k++) expect(await poll(url, agent, device)).toBe(204);
      }
      // Revoked through the first instance's API: the second refuses it at once.
      const revoked = await fetch(`${urls[0]}/v1/tokens/${agents[0]!.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${operator}` } });
      expect(revoked.status).toBeLessThan(300);
      for (const url of urls) expect(await poll(url, agents[0]!, 'd1')).toBe(401);
      // Revoked by the CLI, writing the store beside the services: both refuse it at once.
      expect(await runCaptured(['token', 'revoke', agents[1]!.id, '--store', storeUrl])).toMatchObject({ code: 0, out: `token ${agents[1]!.id} revoked` });
      for (const url of urls) expect(await poll(url, agents[1]!, 'd2')).toBe(401);
    } finally {
      for (const s of instances) s.child.kill('SIGTERM');
      await Promise.all(instances.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? new Promise((ok) => s.child.on('exit', ok)) : undefined)));
      await store.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
