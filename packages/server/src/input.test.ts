/**
 * Bad input over real HTTP: each gets a 4xx problem naming what is wrong, nothing is written to the log, and the
 * service serves on. Reports: idempotent by id (the same report, the same answer; the same id with another report,
 * 409), a report the lifecycle refuses (late, duplicated once its patch moved on) is 409 and written nowhere.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { PROFILE, pilotRollout, RELEASE, startHarness, type Harness } from './testing/harness.js';
import { logHead, refusedOn } from './testing/refused.js';

const release = RELEASE;

describe('bad input, idempotent reports', () => {
  let h: Harness;
  let agent: string;
  let operator: string;
  const refusedAndNothingWritten = refusedOn(() => h);
  const head = () => logHead(h);

  beforeAll(async () => {
    h = await startHarness();
    const started = await pilotRollout(h);
    operator = started.operator;
    agent = started.agents.get('d1')!;
  });
  afterAll(() => h.close());

  it('malformed JSON: 400, naming the body', async () => {
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, raw: '{"kind": "applied",' }), 400, /JSON/, /JSON/);
  });

  it('a content type other than JSON: 415', async () => {
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, raw: 'kind=applied', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, /MEDIA_TYPE/);
  });

  it('a body over 1 MiB: 413', async () => {
    const big = JSON.stringify({ kind: 'applied', id: randomUUID(), device: 'd1', patch: 'HP-2026-02', meta: { padding: 'x'.repeat(1024 * 1024) } });
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, raw: big }), 413, /TOO_LARGE/);
  });

  it('a report of the wrong shape: 400 naming its path', async () => {
    // A report of no known kind is told the kinds; one of a known kind, its own kind's problem (not the first kind's).
    for (const kind of ['__proto__', 'constructor', 'Applied', 42]) {
      await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, body: { kind, id: randomUUID(), device: 'd1', patch: 'HP-2026-02' } }), 400, 'INVALID_REQUEST', /^body\.kind: expected one of "applied", "apply-failed", "health", "rolled-back", "rollback-failed", "baseline-installed", got /);
    }
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, body: { kind: 'health', id: randomUUID(), device: 'd1', patch: 'HP-2026-02' } }), 400, 'INVALID_REQUEST', /^body\.healthy: /);
    const body = await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, body: { kind: 'applied', id: 'not-a-uuid', device: 'd1', patch: 'HP-2026-02' } }), 400, 'INVALID_REQUEST');
    expect(body).toMatchObject({ part: 'body', path: 'id' });
    const query = await refusedAndNothingWritten(h.call('GET', '/v1/devices/d1/instructions?wait=600', { token: agent }), 400, 'INVALID_REQUEST');
    expect(query.detail).toMatch(/^query\.wait: expected a whole number from 0 to 60/);
  });

  it('a report for another device: 403', async () => {
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, body: { kind: 'applied', id: randomUUID(), device: 'd9', patch: 'HP-2026-02' } }), 403, 'DEVICE_NOT_ALLOWED', /bound to device d1, not d9/);
  });

  it('a report the lifecycle refuses (rolled back while applying): 409 with the reason; sent again, decided again (the same refusal), not replayed', async () => {
    const report = { kind: 'rolled-back', id: randomUUID(), device: 'd1', patch: 'HP-2026-02' };
    const body = await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, body: report }), 409, 'REPORT_REFUSED');
    expect(body).toMatchObject({ device: 'd1', reportId: report.id, reason: expect.any(String) });
    const again = await h.call('POST', '/v1/reports', { token: agent, body: report });
    expect(again.body).toEqual(body);
    expect(again.headers.get('idempotent-replayed')).toBe(null);
    // Nothing was written under its id: the same id with another report is decided on its own, not a 409 REUSED.
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, body: { ...report, kind: 'rollback-failed', reason: 'x' } }), 409, 'REPORT_REFUSED');
  });

  it('a report refused because its device is not enrolled yet is recorded when sent again after the enrolment', async () => {
    const d2 = await h.token('agent', { tenant: 'default', device: 'd2' });
    const report = { kind: 'health', id: randomUUID(), device: 'd2', patch: 'HP-2026-02', healthy: true };
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: d2, body: report }), 404, 'UNKNOWN_DEVICE');
    expect((await h.call('PUT', '/v1/devices/d2', { token: d2, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
    const again = await h.call('POST', '/v1/reports', { token: d2, body: report });
    // Decided against the enrolled device now (no patch in flight for it: refused by the lifecycle), not the 404 again.
    expect(again).toMatchObject({ status: 409, body: { code: 'REPORT_REFUSED' } });
  });

  it('a report recorded once: the same report again gets the same answer and writes nothing; the same id with another report, 409', async () => {
    const report = { kind: 'applied', id: randomUUID(), device: 'd1', patch: 'HP-2026-02' };
    const first = await h.call('POST', '/v1/reports', { token: agent, body: report });
    expect(first).toMatchObject({ status: 200, body: { status: 'recorded' } });
    expect(first.body.events).toBeGreaterThan(0);
    const before = await head();
    const again = await h.call('POST', '/v1/reports', { token: agent, body: report });
    expect(again).toMatchObject({ status: 200, body: first.body });
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, body: { ...report, kind: 'apply-failed', reason: 'disk full' } }), 409, 'REPORT_ID_REUSED');
    expect(await head()).toBe(before);
    // A late report (an apply report after the device moved on to its health check) is refused, written nowhere.
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: agent, body: { ...report, id: randomUUID() } }), 409, 'REPORT_REFUSED');
  });

  it('a report whose receipt this instance no longer holds: the log knows it (a duplicate; another body, 409)', async () => {
    const report = { kind: 'health', id: randomUUID(), device: 'd1', patch: 'HP-2026-02', healthy: true };
    expect((await h.call('POST', '/v1/reports', { token: agent, body: report })).body.status).toBe('recorded');
    // A second server over the same store: no receipts, the log answers.
    const { buildServer } = await import('./server.js');
    const second = await buildServer({ store: h.store, logger: false, tickIntervalMs: 0, clock: h.clock });
    const address = await second.listen({ host: '127.0.0.1', port: 0 });
    try {
      const send = (body: unknown) => fetch(`${address}/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const retry = await send(report);
      expect(await retry.json()).toEqual({ status: 'duplicate' });
      const other = await send({ ...report, healthy: false, signal: 'crash' });
      expect(other.status).toBe(409);
      expect((await other.json()).code).toBe('REPORT_ID_REUSED');
    } finally {
      await second.close();
    }
  });

  it('a report for a device never enrolled: 404', async () => {
    const lost = await h.token('agent', { tenant: 'default', device: 'ghost' });
    await refusedAndNothingWritten(h.call('POST', '/v1/reports', { token: lost, body: { kind: 'applied', id: randomUUID(), device: 'ghost', patch: 'HP-2026-02' } }), 404, 'UNKNOWN_DEVICE');
    await refusedAndNothingWritten(h.call('GET', '/v1/devices/ghost/instructions', { token: lost }), 404, 'UNKNOWN_DEVICE');
  });

  it('an enrolment again: the same body changes nothing (200), another body for the device is 409', async () => {
    const same = await h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } });
    expect(same).toMatchObject({ status: 200, body: { device: 'd1', enrolled: false } });
    await refusedAndNothingWritten(h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'broad', baseline: 'B-2026-01' } }), 409, 'COMMAND_ID_REUSED');
  });

  it('a tenant no token was issued for, or another tenant than the token’s: 404, as a foreign resource', async () => {
    await refusedAndNothingWritten(h.call('GET', '/v1/status', { token: operator, headers: { 'hotpatch-tenant': 'nobody' } }), 404, 'UNKNOWN_TENANT');
    const foreign = await h.token('tenant-admin', { tenant: 'acme' });
    await refusedAndNothingWritten(h.call('GET', '/v1/status', { token: foreign, headers: { 'hotpatch-tenant': 'default' } }), 404, 'UNKNOWN_TENANT');
  });

  it('an unknown route: 404 problem', async () => {
    await refusedAndNothingWritten(h.call('GET', '/v1/nothing-here'), 404, 'UNKNOWN_ROUTE');
    await refusedAndNothingWritten(h.call('DELETE', '/v1/nothing-here', { token: operator }), 404, 'UNKNOWN_ROUTE');
  });

  it('a release planned again with other content: 409 naming the field', async () => {
    const body = await refusedAndNothingWritten(h.call('POST', '/v1/rollouts', { token: operator, body: { ...release, liveRevert: false } }), 409, 'RELEASE_CONFLICT');
    expect(body).toMatchObject({ rollout: 'HP-2026-02', field: 'liveRevert', planned: true, given: false });
  });

  it('publishes an OpenAPI 3.1 document that the OpenAPI 3.1 schema validates, with every route', async () => {
    const document = (await h.call('GET', '/openapi.json')).body;
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    // The validator refuses what is not OpenAPI 3.1 (a check that can fail).
    const { info: _, ...noInfo } = document;
    expect((await new Validator().validate(noInfo)).valid).toBe(false);
    expect((await new Validator().validate({ ...document, paths: { '/x': { get: { responses: { 200: { content: 7 } } } } } })).valid).toBe(false);
    expect(Object.keys(document.paths).sort()).toEqual(
      ['/healthz', '/metrics', '/readyz', '/v1/devices/{id}', '/v1/devices/{id}/instructions', '/v1/console/data', '/v1/console/stream', '/v1/events', '/v1/events/stream', '/v1/reports', '/v1/rings/{name}/pause', '/v1/rings/{name}/resume', '/v1/rollouts', '/v1/rollouts/{id}', '/v1/rollouts/{id}/pause', '/v1/rollouts/{id}/resume', '/v1/status', '/v1/tokens', '/v1/tokens/{id}', '/v1/verify'].sort(),
    );
    // The Hotpatch-Tenant header, declared on every operation an operator or an auditor may call, on no other.
    const tenantHeader = (operation: { parameters?: { in: string; name: string; required?: boolean; schema?: { type?: string } }[] }) =>
      (operation.parameters ?? []).find((p) => p.in === 'header' && p.name.toLowerCase() === 'hotpatch-tenant');
    const operations = Object.entries(document.paths as Record<string, Record<string, object>>).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ at: `${method.toUpperCase()} ${path}`, operation })));
    const declared = operations.filter((o) => tenantHeader(o.operation) !== undefined).map((o) => o.at);
    const agentsOnly = ['GET /v1/devices/{id}/instructions', 'POST /v1/reports'];
    expect(declared.sort()).toEqual(operations.map((o) => o.at).filter((at) => at.includes(' /v1/') && !agentsOnly.includes(at)).sort());
    for (const o of operations) {
      const header = tenantHeader(o.operation);
      if (header !== undefined) expect(header, o.at).toMatchObject({ in: 'header', required: false, schema: { type: 'string' } });
    }
  });

  it('counts reports and appends in its metrics', async () => {
    const text = (await h.call('GET', '/metrics')).body as string;
    expect(text).toMatch(/hotpatch_reports_total\{result="recorded"\} [1-9]/);
    expect(text).toMatch(/hotpatch_reports_total\{result="refused"\} [1-9]/);
    expect(text).toMatch(/hotpatch_appended_events_total [1-9]/);
    expect(text).toMatch(/hotpatch_http_request_duration_seconds_bucket\{.*route="\/v1\/reports"/);
    expect(text).toMatch(/hotpatch_projection_lag_events \d/);
  });
});
