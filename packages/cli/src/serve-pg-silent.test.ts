/**
 * `hotpatch serve` over a PostgreSQL that stops answering without closing its connections (a network that drops
 * packets), with the store's default bounds (docs/service.md "When the store is away"): through a TCP proxy in this
 * process that black-holes, /readyz and a report answer 503 naming the store within the bounds, the outage is logged
 * without a stack; once bytes flow the same process is ready again; stopped by SIGTERM while the
 * database is silent again and a call waits on it, it exits.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@hotpatch/server';
import { createPostgresEventStore } from '@hotpatch/store-postgres';
import { describe, expect, it } from 'vitest';
import { startTcpProxy, within } from '../../store-postgres/test/tcp-proxy.js';
import { serveProcess, until } from './testing/serve-process.js';

const pgUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!pgUrl) console.warn('serve-pg-silent.test.ts skipped: HOTPATCH_TEST_POSTGRES_URL is not set');

/** The store's defaults: 2 s of silence, then a check bounded by the 3 s connect bound; with room for a loaded machine. */
const BOUND_MS = 8_000;

describe.skipIf(!pgUrl)('hotpatch serve when PostgreSQL stops answering', () => {
  it('answers 503 within the default bounds, logs the outage without a stack, serves again without a restart, and exits on SIGTERM while silent', { timeout: 120_000 }, async () => {
    const schema = `hotpatch_silent_${randomBytes(4).toString('hex')}`;
    const direct = new URL(pgUrl!);
    direct.searchParams.set('schema', schema);
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const store = await createPostgresEventStore({ connectionString: pgUrl!, schema, max: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'hotpatch-pg-silent-'));
    const s = serveProcess(dir, ['--store', proxy.url(direct.href), '--port', '0', '--tick-ms', '200']);
    try {
      const agent = (await issueToken(store, { role: 'agent', tenant: 'default', device: 'probe' })).token;
      const url = await s.listening;
      const logs = () => `stderr:\n${s.err()}\nlast stdout:\n${s.out().split('\n').slice(-15).join('\n')}`;
      const call = async (method: string, route: string, body?: unknown) => {
        const response = await fetch(url + route, { method, headers: { authorization: `Bearer ${agent}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        const text = await response.text();
        return { status: response.status, body: text === '' ? null : JSON.parse(text), retryAfter: response.headers.get('retry-after') };
      };
      await until('/readyz answers 200', 20_000, async () => ((await call('GET', '/readyz')).status === 200 ? true : undefined), logs);

      proxy.blackhole();
      const [ready, report] = await Promise.all([within(BOUND_MS, call('GET', '/readyz')), within(BOUND_MS, call('POST', '/v1/reports', { kind: 'applied', id: randomUUID(), device: 'probe', patch: 'HP-1' }))]);
      for (const [what, answer] of [['GET /readyz', ready], ['POST /v1/reports', report]] as const) {
        expect(answer, `${what} still waiting after ${BOUND_MS} ms\n${logs()}`).not.toBe('pending');
        const { value } = answer as { value: Awaited<ReturnType<typeof call>> };
        expect(value.status, `${what}: ${JSON.stringify(value.body)}`).toBe(503);
        expect(value.retryAfter).toMatch(/^\d+$/);
        expect(value.body.code).toBe('CONNECTION_LOST');
        expect(value.body.store).toContain(schema);
      }
      expect((await call('GET', '/healthz')).status).toBe(200);

      proxy.forward();
      await until('/readyz answers 200 again', 20_000, async () => ((await call('GET', '/readyz')).status === 200 ? true : undefined), logs);
      // Stopped while the database is silent again and a call waits on it: each step of the stop ends within its
      // bounds, the call is answered, and the process exits (before: the answered call's connection, kept alive by
      // its client, held the close up).
      proxy.blackhole();
      const waiting = call('GET', '/readyz');
      await new Promise((ok) => setTimeout(ok, 200));
      s.child.kill('SIGTERM');
      expect((await waiting).status).toBe(503);
      expect(await within(30_000, s.exited), logs()).toEqual({ value: 0 });
      // The outage said when it began, and what the stop could not do, each in one line without a stack; nothing else as
      // an error. (A statement sent while the proxy dropped bytes is out of step for good — TCP would have sent them
      // again — and is cut within its bound after the network is back: the store may be said away once more then.)
      const lines = s.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
      const errors = lines.filter((l) => l.level >= 50);
      expect(errors.filter((l) => l.msg.startsWith('the store cannot serve')).length, logs()).toBeGreaterThanOrEqual(1);
      const expected = /^(the store cannot serve|checkpoint not saved$|log not sealed$|leases not released$)/;
      expect(errors.filter((l) => !expected.test(l.msg) || l.err !== undefined), logs()).toEqual([]);
      expect(lines.some((l) => l.msg === 'the store serves again'), logs()).toBe(true);
    } finally {
      proxy.forward();
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
      await proxy.close();
      await store.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
