/**
 * Tenants over HTTP: two tenants with the same device ids, release and report ids, each enrolled and rolled out
 * through its own tokens over one SQLite file. Each reads and writes its own fleet alone: another tenant's ids and
 * tokens answer as a missing resource does, nothing written; each tenant's status is the one its view of the
 * store gives; its auditor reads its events alone, a service-wide one the whole log.
 */
import { fleetStatus, FleetProjection } from '@hotpatch/fleet';
import { scopeStore, type RecordedEvent } from '@hotpatch/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE, startHarness, type Harness } from './testing/harness.js';
import { readEvents } from './testing/sse-client.js';

const ID_KEY = 'the id key of this test store';
const TENANTS = ['acme', 'globex'] as const;
const DEVICES = ['d0', 'd1', 'd2', 'd3'];
const release = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true };
/** The same report ids in both tenants (one agent build): round and device. */
const reportId = (round: number, device: number) => `0190b6c0-0000-7000-8000-${(round * 16 + device).toString(16).padStart(12, '0')}`;

type Tokens = { admin: string; auditor: string; agents: Record<string, string> };

describe('tenants', () => {
  let h: Harness;
  let operator: string;
  let auditor: string;
  const tokens = {} as Record<(typeof TENANTS)[number], Tokens>;
  const as = (tenant: string) => ({ 'hotpatch-tenant': tenant });
  const view = (tenant: string) => scopeStore(h.store, tenant, { idKey: ID_KEY });
  const logLength = async () => (await h.store.readAll()).length;

  beforeAll(async () => {
    h = await startHarness({ idKey: ID_KEY });
    operator = await h.token('operator');
    auditor = await h.token('auditor');
    for (const tenant of TENANTS) {
      // The operator makes the tenant (a token bound to it); its admin provisions its agents over HTTP.
      const admin = (await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'tenant-admin', tenant } })).body.token as string;
      const issue = async (body: object) => (await h.call('POST', '/v1/tokens', { token: admin, body })).body.token as string;
      const agents: Record<string, string> = {};
      for (const device of [...DEVICES, 'only-acme', 'nowhere']) agents[device] = await issue({ role: 'agent', device });
      tokens[tenant] = { admin, auditor: await issue({ role: 'auditor' }), agents };
      for (const [i, device] of DEVICES.entries()) {
        const enrolled = await h.call('PUT', `/v1/devices/${device}`, { token: agents[device], body: { ...PROFILE, ring: i < 2 ? 'pilot' : 'broad', baseline: 'B-2026-01' } });
        expect(enrolled.status, `${tenant} ${device}`).toBe(201);
      }
      expect((await h.call('POST', '/v1/rollouts', { token: operator, headers: as(tenant), body: release })).status).toBe(201);
    }
    // acme alone has a device and a rollout globex does not.
    expect((await h.call('PUT', '/v1/devices/only-acme', { token: tokens.acme.agents['only-acme'], body: { ...PROFILE, ring: 'broad', baseline: 'B-2026-01' } })).status).toBe(201);
    expect((await h.call('POST', '/v1/rollouts', { token: operator, headers: as('acme'), body: { ...release, id: 'HP-ACME-ONLY' } })).status).toBe(201);
    // Each agent does what it is told; globex's d0 fails its apply (the tenants' fleets differ).
    for (let round = 0; round < 8; round++) {
      await h.app.hotpatch.tickOnce();
      for (const tenant of TENANTS) {
        for (const [i, device] of DEVICES.entries()) {
          const token = tokens[tenant].agents[device]!;
          const next = await h.call('GET', `/v1/devices/${device}/instructions`, { token });
          if (next.status !== 200) continue;
          const { action, patch } = next.body;
          const report =
            action === 'apply'
              ? tenant === 'globex' && device === 'd0'
                ? { kind: 'apply-failed', reason: 'boot driver' }
                : { kind: 'applied' }
              : action === 'check-health'
                ? { kind: 'health', healthy: true }
                : undefined;
          if (report === undefined) continue;
          const answer = await h.call('POST', '/v1/reports', { token, body: { ...report, id: reportId(round, i), device, patch } });
          expect(answer.status, `${tenant} ${device} round ${round}: ${JSON.stringify(answer.body)}`).toBe(200);
          expect(answer.body.status).toBe('recorded');
        }
      }
      h.clock.advance(30 * 3600);
    }
  });
  afterAll(() => h.close());

  /** The status of a tenant as its view of the store gives it (what `hotpatch status --tenant T --store` folds). */
  const statusOfView = async (tenant: string) => {
    const projection = new FleetProjection();
    for (const e of await view(tenant).readAll()) projection.apply(e as never);
    return JSON.parse(JSON.stringify(fleetStatus(projection, projection.latestTime, 0.95)));
  };

  it('each tenant’s status is its own fleet’s, as its view of the store gives it, for its admin and for the operator naming it', async () => {
    for (const tenant of TENANTS) {
      const expected = await statusOfView(tenant);
      expect((await h.call('GET', '/v1/status', { token: tokens[tenant].admin })).body, tenant).toEqual(expected);
      expect((await h.call('GET', '/v1/status', { token: operator, headers: as(tenant) })).body, tenant).toEqual(expected);
      expect((await h.call('GET', '/v1/status', { token: tokens[tenant].auditor })).body, tenant).toEqual(expected);
    }
    const rollout = async (tenant: string) => (await h.call('GET', `/v1/rollouts/${release.id}`, { token: tokens[tenant].admin })).body;
    // The same rollout id, two rollouts: globex's pilot saw a failure, acme's none.
    expect((await rollout('acme')).rings[0]).toMatchObject({ failed: 0 });
    expect((await rollout('globex')).rings[0]).toMatchObject({ failed: 1 });
    const d0 = async (tenant: string) => (await h.call('GET', '/v1/devices/d0', { token: tokens[tenant].admin })).body.device;
    expect(await d0('globex')).toMatchObject({ device: 'd0', state: 'rollingBack' });
    expect(await d0('acme')).not.toEqual(await d0('globex'));
    // The default tenant was made, and holds none of theirs.
    expect((await h.call('GET', '/v1/status', { token: operator })).body.rollouts).toEqual([]);
  });

  it('another tenant’s ids answer as missing ones, another tenant named answers as an unknown one; nothing written', async () => {
    const before = await logLength();
    const g = tokens.globex;
    const same = async (foreign: Promise<{ status: number; body: any }>, missing: Promise<{ status: number; body: any }>) => {
      const [a, b] = [await foreign, await missing];
      expect(a.status).toBe(404);
      expect({ status: a.status, code: a.body.code }).toEqual({ status: b.status, code: b.body.code });
    };
    // globex's agent bound to a device only acme has; globex's admin and auditor reading acme's ids.
    await same(h.call('GET', '/v1/devices/only-acme/instructions', { token: g.agents['only-acme'] }), h.call('GET', '/v1/devices/nowhere/instructions', { token: g.agents.nowhere }));
    await same(h.call('GET', '/v1/devices/only-acme', { token: g.agents['only-acme'] }), h.call('GET', '/v1/devices/nowhere', { token: g.admin }));
    await same(
      h.call('POST', '/v1/reports', { token: g.agents['only-acme'], body: { kind: 'applied', id: reportId(99, 0), device: 'only-acme', patch: release.id } }),
      h.call('POST', '/v1/reports', { token: g.agents['only-acme'], body: { kind: 'applied', id: reportId(99, 1), device: 'only-acme', patch: 'HP-NONE' } }),
    );
    for (const token of [g.admin, g.auditor]) {
      await same(h.call('GET', '/v1/devices/only-acme', { token }), h.call('GET', '/v1/devices/nowhere', { token }));
      await same(h.call('GET', '/v1/rollouts/HP-ACME-ONLY', { token }), h.call('GET', '/v1/rollouts/HP-NONE', { token }));
    }
    for (const [action, body] of [['pause', { reason: 'r' }], ['resume', {}]] as const) {
      await same(h.call('POST', `/v1/rollouts/HP-ACME-ONLY/${action}`, { token: g.admin, body }), h.call('POST', `/v1/rollouts/HP-NONE/${action}`, { token: g.admin, body }));
    }
    // Tokens: acme's token ids are not globex's to revoke, nor is acme a tenant globex's admin issues for.
    const acmeAgentId = tokens.acme.agents.d0!.split('_')[1]!;
    await same(h.call('DELETE', `/v1/tokens/${acmeAgentId}`, { token: g.admin }), h.call('DELETE', '/v1/tokens/0123456789abcdef', { token: g.admin }));
    await same(h.call('POST', '/v1/tokens', { token: g.admin, body: { role: 'agent', tenant: 'acme', device: 'd0' } }), h.call('POST', '/v1/tokens', { token: g.admin, body: { role: 'agent', tenant: 'nobody', device: 'd0' } }));
    // Naming acme in the header, with every token bound to globex, on every route: as a tenant that does not exist.
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/status'],
      ['GET', '/v1/devices/d0'],
      ['GET', '/v1/devices/d0/instructions'],
      ['PUT', '/v1/devices/d0', { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' }],
      ['POST', '/v1/reports', { kind: 'applied', id: reportId(99, 2), device: 'd0', patch: release.id }],
      ['GET', `/v1/rollouts/${release.id}`],
      ['POST', `/v1/rollouts/${release.id}/pause`, { reason: 'r' }],
      ['POST', '/v1/rings/pilot/pause', { reason: 'r' }],
      ['GET', '/v1/events'],
      ['GET', '/v1/events/stream'],
      ['GET', '/v1/verify'],
      ['POST', '/v1/tokens', { role: 'auditor' }],
      ['DELETE', `/v1/tokens/${acmeAgentId}`],
    ];
    let tried = 0;
    for (const token of [g.admin, g.auditor, g.agents.d0!]) {
      for (const [method, path, body] of routes) {
        const foreign = await h.call(method, path, { token, body, headers: as('acme') });
        if (foreign.status === 403) continue; // the role may not call the route at all, whatever the tenant
        const missing = await h.call(method, path, { token, body, headers: as('nobody') });
        expect({ route: `${method} ${path}`, status: foreign.status, code: foreign.body.code }).toEqual({ route: `${method} ${path}`, status: 404, code: 'UNKNOWN_TENANT' });
        expect(foreign.body.detail).toBe(missing.body.detail.replace('nobody', 'acme'));
        tried++;
      }
    }
    expect(tried).toBeGreaterThanOrEqual(routes.length);
    expect(await logLength()).toBe(before);
  });

  it('a tenant’s pause holds its ring alone', async () => {
    expect((await h.call('POST', '/v1/rings/pilot/pause', { token: tokens.acme.admin, body: { reason: 'freeze' } })).body).toEqual({ state: 'paused', pausedBy: ['tenant'] });
    expect((await h.call('GET', '/v1/status', { token: tokens.acme.admin })).body.pausedRings).toHaveLength(1);
    expect((await h.call('GET', '/v1/status', { token: tokens.globex.admin })).body.pausedRings).toEqual([]);
    expect((await h.call('POST', '/v1/rings/pilot/resume', { token: tokens.acme.admin, body: {} })).status).toBe(200);
  });

  it('a tenant’s auditor reads its events alone under local names (page, live tail, verify); a service-wide one the whole log', async () => {
    const own = (await view('acme').readAll()).map((e: RecordedEvent) => ({ ...e }));
    const page = (await h.call('GET', '/v1/events?limit=10000', { token: tokens.acme.auditor })).body;
    expect(page.events).toEqual(JSON.parse(JSON.stringify(own)));
    expect(page.events.some((e: RecordedEvent) => e.stream.startsWith('tenant/') || e.stream.startsWith('token/'))).toBe(false);
    const tail = await readEvents(`${h.url}/v1/events/stream?after=0`, tokens.acme.auditor, own.length);
    expect(tail.map((e) => e.data)).toEqual(page.events);
    const whole = (await h.call('GET', '/v1/events?limit=10000', { token: auditor })).body.events;
    expect(whole).toHaveLength(await logLength());
    const verified = (await h.call('GET', '/v1/verify', { token: tokens.acme.auditor })).body;
    expect(verified).toMatchObject({ ok: true, events: own.length });
    expect((await h.call('GET', '/v1/verify', { token: auditor })).body).toMatchObject({ ok: true, events: await logLength() });
  });

  it('a tenant another process made (a token written to the log) is served and ticked', async () => {
    const admin = await h.token('tenant-admin', { tenant: 'initech' });
    expect((await h.call('GET', '/v1/status', { token: operator, headers: as('initech') })).status).toBe(200);
    await h.token('auditor', { tenant: 'umbrella' });
    await h.app.hotpatch.tickOnce();
    expect(h.app.hotpatch.tenants.names()).toEqual(expect.arrayContaining(['default', 'acme', 'globex', 'initech', 'umbrella']));
    expect((await h.call('GET', '/v1/status', { token: admin })).body.rollouts).toEqual([]);
    // Its agent's long-poll is answered as soon as a tick instructs its device (woken by the append under its prefix).
    const agent = (await h.call('POST', '/v1/tokens', { token: admin, body: { role: 'agent', device: 'd0' } })).body.token;
    expect((await h.call('PUT', '/v1/devices/d0', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
    const started = Date.now();
    const waiting = h.call('GET', '/v1/devices/d0/instructions?wait=5', { token: agent });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await h.call('POST', '/v1/rollouts', { token: operator, headers: as('initech'), body: release })).status).toBe(201);
    await h.app.hotpatch.tickOnce();
    expect(await waiting).toMatchObject({ status: 200, body: { device: 'd0', action: 'apply', patch: release.id } });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
