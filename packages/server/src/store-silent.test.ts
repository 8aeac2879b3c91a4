/**
 * The service over PostgreSQL when the database stops answering without closing its connections (a network that
 * drops packets; docs/service.md "When the store is away"): through a TCP proxy in the test that black-holes, reports
 * and reads answer 503 naming the store within the store's bound, /readyz says not ready, the orchestration lease is
 * not held past its term; once bytes flow again the same service is ready, takes the retried write once, and holds
 * the lease again. Before the store bounded its calls, every one of these waited on its socket.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLeaseKeeper, createPostgresEventStore } from '@hotpatch/store-postgres';
import { startTcpProxy, within } from '../../store-postgres/test/tcp-proxy.js';
import { PROFILE, startHarness } from './testing/harness.js';

const pgUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!pgUrl) console.log('store-silent.test.ts skipped: HOTPATCH_TEST_POSTGRES_URL is not set');

const QUERY_MS = 300;
const CONNECT_MS = 300;
const BOUND_MS = QUERY_MS * 2 + CONNECT_MS + 1_500;
const LEASE_MS = 1_500;
const schema = `hotpatch_silent_${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe.skipIf(!pgUrl)('the service over a PostgreSQL that stops answering', () => {
  afterAll(async () => {
    const admin = await createPostgresEventStore({ connectionString: pgUrl!, schema, max: 1 });
    await admin.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.close();
  });

  it('answers 503 within the bound, is not ready, lets its lease lapse; recovers without a restart and records the retried write once', { timeout: 60_000 }, async () => {
    const direct = new URL(pgUrl!);
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const store = await createPostgresEventStore({ connectionString: proxy.url(pgUrl!), schema, max: 4, queryTimeoutMs: QUERY_MS, connectTimeoutMs: CONNECT_MS });
    const h = await startHarness({
      store,
      storeName: 'pg-silent',
      tickIntervalMs: 200,
      orchestrationLeases: (names) => createLeaseKeeper({ leases: store.leases({ owner: 'silent', ttlMs: LEASE_MS }), names, intervalMs: 300 }),
    });
    try {
      const agent = await h.token('agent', { tenant: 'default', device: 'd1' });
      const operator = await h.token('operator');
      const enrolment = { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' };
      expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body: enrolment })).status).toBe(201);
      const leasesHeld = async () => Number(/^hotpatch_orchestration_leases_held (\d+)/m.exec((await h.call('GET', '/metrics')).body as string)?.[1]);
      const held = async (n: number, ms: number) => {
        const until = Date.now() + ms;
        while ((await leasesHeld()) !== n && Date.now() < until) await sleep(100);
        return leasesHeld();
      };
      expect(await held(1, 5_000)).toBe(1);

      proxy.blackhole();
      const cutAt = Date.now();
      const report = { kind: 'applied', id: randomUUID(), device: 'd1', patch: 'HP-2026-02' };
      const [ready, reported, read, enrolled] = await Promise.all([
        within(BOUND_MS, h.call('GET', '/readyz')),
        within(BOUND_MS, h.call('POST', '/v1/reports', { token: agent, body: report })),
        within(BOUND_MS, h.call('GET', '/v1/devices/d1', { token: agent })),
        within(BOUND_MS, h.call('PUT', '/v1/devices/d2', { token: operator, body: enrolment })),
      ]);
      for (const [what, answer] of [['GET /readyz', ready], ['POST /v1/reports', reported], ['GET /v1/devices/d1', read], ['PUT /v1/devices/d2', enrolled]] as const) {
        expect(answer, `${what} still waiting after ${BOUND_MS} ms`).not.toBe('pending');
        const { value } = answer as { value: Awaited<ReturnType<typeof h.call>> };
        expect(value.status, `${what}: ${JSON.stringify(value.body)}`).toBe(503);
        expect(value.type).toContain('application/problem+json');
        expect(value.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(value.body.store).toBe('pg-silent');
        expect(value.body.code).toBe('CONNECTION_LOST');
        expect(value.body.detail).not.toContain('\n');
      }
      // The lease is given up locally within its term: no tick of this instance's after it.
      expect(await held(0, Math.max(0, LEASE_MS - (Date.now() - cutAt)) + 1_000)).toBe(0);
      expect((await within(BOUND_MS, h.call('GET', '/healthz'))) as unknown).toMatchObject({ value: { status: 200 } });

      proxy.forward();
      const until = Date.now() + 10_000;
      while ((await h.call('GET', '/readyz')).status !== 200 && Date.now() < until) await sleep(100);
      expect((await h.call('GET', '/readyz')).status).toBe(200);
      // Answered again (the device has no patch in flight: refused, but by the service, not the network).
      expect((await h.call('POST', '/v1/reports', { token: agent, body: report })).status).toBe(409);
      // The write refused while away, sent again: recorded once.
      expect((await h.call('PUT', '/v1/devices/d2', { token: operator, body: enrolment })).status).toBe(201);
      expect((await h.call('PUT', '/v1/devices/d2', { token: operator, body: enrolment })).status).toBe(200);
      expect((await store.readStream('device/d2')).filter((e) => e.type === 'DeviceEnrolled')).toHaveLength(1);
      expect(await held(1, 5_000)).toBe(1);
    } finally {
      proxy.forward();
      await h.close();
      await proxy.close();
    }
  });
});
