/**
 * Every route against every role, over real HTTP: the roles a route allows get past the access check (whatever the
 * route then answers), the others get 403 naming the roles allowed; no token, a malformed one, an unknown one and a
 * revoked one get 401; an agent acting on another device gets 403.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_ROLES, type TokenRole } from '@hotpatch/core';
import { revokeToken } from './tokens.js';
import { PROFILE, startHarness, type Harness } from './testing/harness.js';

const enrolment = { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' };
const release = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true };
const report = () => ({ kind: 'applied', id: randomUUID(), device: 'd1', patch: 'HP-2026-02' });

/** Each route, a request that passes its checks, and the roles that may call it. */
const ROUTES: ReadonlyArray<{ method: string; path: string; body?: () => unknown; roles: readonly TokenRole[]; live?: true }> = [
  { method: 'PUT', path: '/v1/devices/d1', body: () => enrolment, roles: ['agent', 'operator'] },
  { method: 'GET', path: '/v1/devices/d1/instructions', roles: ['agent'] },
  { method: 'POST', path: '/v1/reports', body: report, roles: ['agent'] },
  { method: 'POST', path: '/v1/rollouts', body: () => release, roles: ['operator'] },
  { method: 'POST', path: '/v1/rollouts/HP-2026-02/pause', body: () => ({ reason: 'freeze' }), roles: ['operator', 'tenant-admin'] },
  { method: 'POST', path: '/v1/rollouts/HP-2026-02/resume', body: () => ({}), roles: ['operator', 'tenant-admin'] },
  { method: 'POST', path: '/v1/rings/pilot/pause', body: () => ({ reason: 'freeze' }), roles: ['operator', 'tenant-admin'] },
  { method: 'POST', path: '/v1/rings/pilot/resume', body: () => ({}), roles: ['operator', 'tenant-admin'] },
  { method: 'GET', path: '/v1/status', roles: ['operator', 'tenant-admin', 'auditor'] },
  { method: 'GET', path: '/v1/devices/d1', roles: ['operator', 'tenant-admin', 'auditor', 'agent'] },
  { method: 'GET', path: '/v1/rollouts/HP-2026-02', roles: ['operator', 'tenant-admin', 'auditor'] },
  { method: 'GET', path: '/v1/events?limit=5', roles: ['auditor', 'operator'] },
  { method: 'GET', path: '/v1/verify', roles: ['auditor', 'operator'] },
  { method: 'GET', path: '/v1/events/stream', roles: ['auditor', 'operator'], live: true },
  { method: 'GET', path: '/v1/console/data?rollout=HP-2026-02', roles: ['operator', 'tenant-admin', 'auditor'] },
  { method: 'GET', path: '/v1/console/stream', roles: ['operator', 'tenant-admin', 'auditor'], live: true },
  { method: 'POST', path: '/v1/tokens', body: () => ({ role: 'auditor', tenant: 'default' }), roles: ['operator', 'tenant-admin'] },
  { method: 'DELETE', path: '/v1/tokens/0123456789abcdef', roles: ['operator', 'tenant-admin'] },
];

const SCOPES: Record<TokenRole, { tenant?: string; device?: string }> = { agent: { tenant: 'default', device: 'd1' }, operator: {}, 'tenant-admin': { tenant: 'default' }, auditor: {} };

describe('who may call what', () => {
  let h: Harness;
  const tokens = {} as Record<TokenRole, string>;
  beforeAll(async () => {
    h = await startHarness();
    for (const role of TOKEN_ROLES) tokens[role] = await h.token(role, SCOPES[role]);
    // A fleet for the routes to act on: d1 enrolled, a rollout planned.
    expect((await h.call('PUT', '/v1/devices/d1', { token: tokens.agent, body: enrolment })).status).toBe(201);
    expect((await h.call('POST', '/v1/rollouts', { token: tokens.operator, body: release })).status).toBe(201);
    await h.app.hotpatch.tickOnce();
  });
  afterAll(() => h.close());

  for (const route of ROUTES) {
    for (const role of TOKEN_ROLES) {
      const allowed = route.roles.includes(role);
      it(`${route.method} ${route.path.split('?')[0]}: ${role} ${allowed ? 'allowed' : 'refused (403)'}`, async () => {
        if (route.live && allowed) {
          // A live tail answers with its headers and goes on: the status is all this test reads.
          const gone = new AbortController();
          const response = await fetch(h.url + route.path, { headers: { authorization: `Bearer ${tokens[role]}` }, signal: gone.signal });
          gone.abort();
          expect(response.status).toBe(200);
          return;
        }
        const r = await h.call(route.method, route.path, { token: tokens[role], ...(route.body ? { body: route.body() } : {}) });
        if (allowed) expect([401, 403]).not.toContain(r.status);
        else {
          expect(r.status).toBe(403);
          expect(r.type).toMatch(/^application\/problem\+json/);
          expect(r.body).toMatchObject({ code: 'ROLE_NOT_ALLOWED', role, allowed: route.roles, status: 403 });
        }
      });
    }
    it(`${route.method} ${route.path.split('?')[0]}: no token, a malformed one, an unknown one: 401`, async () => {
      const body = route.body ? { body: route.body() } : {};
      const none = await h.call(route.method, route.path, body);
      expect(none.status).toBe(401);
      expect(none.body.detail).toMatch(/no Authorization header/);
      expect((await h.call(route.method, route.path, { ...body, token: 'letmein' })).body.detail).toMatch(/not a hotpatch token/);
      const unknown = await h.call(route.method, route.path, { ...body, token: `hp_0123456789abcdef_${'A'.repeat(43)}` });
      expect(unknown).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', detail: 'unknown token 0123456789abcdef' } });
    });
  }

  it('the table above names every route that takes a token, as the OpenAPI document lists them', async () => {
    const doc = (await h.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { security?: unknown }>> };
    const secured = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).filter(([, op]) => op.security !== undefined).map(([method]) => `${method.toUpperCase()} ${path}`));
    const table = ROUTES.map((r) => `${r.method} ${r.path.split('?')[0]!.replace('/d1', '/{id}').replace('HP-2026-02', '{id}').replace('/pilot/', '/{name}/').replace('0123456789abcdef', '{id}')}`);
    expect([...new Set(table)].sort()).toEqual(secured.sort());
  });

  it('refuses a token with the right id and another secret', async () => {
    const [, id] = /^hp_([0-9a-f]{16})_/.exec(tokens.operator)!;
    const r = await h.call('GET', '/v1/status', { token: `hp_${id}_${'B'.repeat(43)}` });
    expect(r).toMatchObject({ status: 401, body: { detail: `unknown token ${id}` } });
  });

  it('refuses a revoked token at the next request', async () => {
    const token = await h.token('auditor');
    expect((await h.call('GET', '/v1/status', { token })).status).toBe(200);
    await revokeToken(h.store, /^hp_([0-9a-f]{16})_/.exec(token)![1]!, 'left the company');
    const r = await h.call('GET', '/v1/status', { token });
    expect(r).toMatchObject({ status: 401, body: { detail: expect.stringMatching(/was revoked/) } });
  });

  it('refuses an agent acting on another device: its enrolment, its instructions, its reports, its reads', async () => {
    const other = { device: 'd2', tokenDevice: 'd1', code: 'DEVICE_NOT_ALLOWED', status: 403 };
    expect((await h.call('PUT', '/v1/devices/d2', { token: tokens.agent, body: enrolment })).body).toMatchObject(other);
    expect((await h.call('GET', '/v1/devices/d2/instructions', { token: tokens.agent })).body).toMatchObject(other);
    expect((await h.call('POST', '/v1/reports', { token: tokens.agent, body: { ...report(), device: 'd2' } })).body).toMatchObject(other);
    expect((await h.call('GET', '/v1/devices/d2', { token: tokens.agent })).body).toMatchObject(other);
    expect((await h.store.readState('device/d2')).version).toBe(0);
  });

  it('pauses as the party the caller is: the service cannot lift the tenant’s pause', async () => {
    const paused = await h.call('POST', '/v1/rings/broad/pause', { token: tokens['tenant-admin'], body: { reason: 'quarter end' } });
    expect(paused).toMatchObject({ status: 200, body: { state: 'paused', pausedBy: ['tenant'] } });
    const refused = await h.call('POST', '/v1/rings/broad/resume', { token: tokens.operator });
    expect(refused).toMatchObject({ status: 409, body: { code: 'TRANSITION_REFUSED' } });
    expect((await h.call('POST', '/v1/rings/broad/resume', { token: tokens['tenant-admin'] })).body).toEqual({ state: 'open', pausedBy: [] });
  });
});
