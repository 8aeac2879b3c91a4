/**
 * A service with a rollout under way in two tenants, for the console's tests: the default tenant's release rolling
 * through its pilot ring (two devices instructed to apply), and tenant acme's own release on its own devices.
 */
import { expect } from 'vitest';
import { PROFILE, startHarness, type Harness } from './harness.js';

export const RELEASE = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true };
export const ACME_RELEASE = { ...RELEASE, id: 'HP-ACME-01' };

export interface ConsoleFleet {
  readonly h: Harness;
  readonly tokens: { operator: string; auditor: string; acmeAdmin: string; agents: Record<string, string> };
  /** An agent's report over HTTP (a new event in the log), an hour after the last. */
  report(device: string, kind: 'applied' | 'apply-failed', id: string, patch?: string): Promise<void>;
}

export async function startConsoleFleet(options: Parameters<typeof startHarness>[0] = {}): Promise<ConsoleFleet> {
  const h = await startHarness(options);
  const operator = await h.token('operator');
  const auditor = await h.token('auditor');
  const acmeAdmin = await h.token('tenant-admin', { tenant: 'acme' });
  const agents: Record<string, string> = {};
  const enrol = async (tenant: string, device: string, ring: string) => {
    agents[`${tenant}/${device}`] = await h.token('agent', { tenant, device });
    expect((await h.call('PUT', `/v1/devices/${device}`, { token: agents[`${tenant}/${device}`], body: { ...PROFILE, ring, baseline: 'B-2026-01' } })).status).toBe(201);
  };
  for (const [device, ring] of [['d1', 'pilot'], ['d2', 'pilot'], ['d3', 'broad']] as const) await enrol('default', device, ring);
  for (const [device, ring] of [['a1', 'pilot'], ['a2', 'broad']] as const) await enrol('acme', device, ring);
  expect((await h.call('POST', '/v1/rollouts', { token: operator, body: RELEASE })).status).toBe(201);
  expect((await h.call('POST', '/v1/rollouts', { token: operator, headers: { 'hotpatch-tenant': 'acme' }, body: ACME_RELEASE })).status).toBe(201);
  await h.app.hotpatch.tickOnce();
  return {
    h,
    tokens: { operator, auditor, acmeAdmin, agents },
    report: async (device, kind, id, patch = RELEASE.id) => {
      h.clock.advance(3600);
      const r = await h.call('POST', '/v1/reports', { token: agents[`default/${device}`], body: { kind, id, device, patch, ...(kind === 'apply-failed' ? { reason: 'boot driver' } : {}) } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    },
  };
}
