/**
 * A tenant's `GET /v1/status` from `hotpatch serve` is what `hotpatch status --tenant T --store …` prints from the
 * same store: two tenants with the same device, release and report ids, each enrolled, rolled out and reported on
 * over HTTP through its own tokens (the service with an id key, which the CLI has not: a status names no event id).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulatedClock } from '@hotpatch/fleet';
import { buildServer, issueToken } from '@hotpatch/server';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { expect, it } from 'vitest';
import { runCaptured } from './main.js';

const PROFILE = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const release = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true };

it('each tenant’s /v1/status is what hotpatch status --tenant T --store prints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-serve-tenants-'));
  const path = join(dir, 'fleet.db');
  const store = openSqliteEventStore({ path, durability: 'normal' });
  const clock = simulatedClock('2026-01-13T18:00:00.000Z');
  const app = await buildServer({ store, clock, tickIntervalMs: 0, logger: false, idKey: 'an id key the CLI does not know' });
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const call = async (method: string, route: string, token: string, body?: unknown, tenant?: string) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(tenant ? { 'hotpatch-tenant': tenant } : {}) };
      const response = await fetch(url + route, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: response.status, body: response.status === 204 ? null : await response.json() };
    };
    const operator = (await issueToken(store, { role: 'operator' })).token;
    const tenants = ['acme', 'globex'];
    const agents = new Map<string, string>();
    for (const tenant of tenants) {
      for (const [i, device] of ['d0', 'd1', 'd2'].entries()) {
        const token = (await call('POST', '/v1/tokens', operator, { role: 'agent', tenant, device })).body.token as string;
        agents.set(`${tenant}/${device}`, token);
        expect((await call('PUT', `/v1/devices/${device}`, token, { ...PROFILE, ring: i === 0 ? 'pilot' : 'broad', baseline: 'B-2026-01' })).status).toBe(201);
      }
      expect((await call('POST', '/v1/rollouts', operator, release, tenant)).status).toBe(201);
    }
    for (let round = 0; round < 6; round++) {
      await app.hotpatch.tickOnce();
      for (const [key, token] of agents) {
        const [tenant, device] = key.split('/') as [string, string];
        const next = await call('GET', `/v1/devices/${device}/instructions`, token);
        if (next.status !== 200 || !['apply', 'check-health'].includes(next.body.action)) continue;
        const failing = tenant === 'globex' && device === 'd0';
        const report = next.body.action === 'check-health' ? { kind: 'health', healthy: true } : failing ? { kind: 'apply-failed', reason: 'boot driver' } : { kind: 'applied' };
        const id = `0190b6c0-0000-7000-8000-${String(round * 10 + Number(device.slice(1))).padStart(12, '0')}`;
        expect((await call('POST', '/v1/reports', token, { ...report, id, device, patch: next.body.patch })).status).toBe(200);
      }
      clock.advance(30 * 3600);
    }
    const statuses = [];
    for (const tenant of tenants) {
      const served = (await call('GET', '/v1/status', operator, undefined, tenant)).body;
      const printed = await runCaptured(['status', '--tenant', tenant, '--store', `sqlite:${path}`, '--json']);
      expect(printed.code, printed.err).toBe(0);
      expect(served, tenant).toEqual(JSON.parse(printed.out));
      statuses.push(served);
    }
    expect(statuses[0]).not.toEqual(statuses[1]);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
