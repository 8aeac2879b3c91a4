/**
 * The README's embedding example: the service mounted under a prefix in an application of one's own, whose own
 * routes keep Fastify's defaults (its Ajv validation, its error answers), over real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { expect, it } from 'vitest';
import { HotpatchService, hotpatchPlugin, issueToken } from './index.js';

it('mounts in a Fastify application of one’s own, beside its routes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-embed-'));
  const store = openSqliteEventStore({ path: join(dir, 'fleet.db') });
  // --- the example ---
  const service = await HotpatchService.open({ store, tickIntervalMs: 1000 });
  const app = Fastify({ logger: false });
  app.get('/hello', { schema: { querystring: { type: 'object', properties: { n: { type: 'integer' } } } } }, async (request) => ({ hello: (request.query as { n?: number }).n ?? 0 }));
  await app.register(hotpatchPlugin, { service, prefix: '/patching' });
  app.addHook('onReady', async () => service.start(app.log));
  app.addHook('onClose', async () => service.stop());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  // --- end of the example ---
  try {
    const { token } = await issueToken(store, { role: 'operator' });
    const status = await fetch(`${url}/patching/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    expect(((await status.json()) as { devices: number }).devices).toBe(0);
    // The application's own route: Fastify's Ajv coerces its query, and its errors are Fastify's own.
    expect(await (await fetch(`${url}/hello?n=3`)).json()).toEqual({ hello: 3 });
    const bad = await fetch(`${url}/hello?n=x`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
    // The service's answers under its prefix are problems.
    const refused = await fetch(`${url}/patching/v1/status`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${url}/patching/v1/nothing`)).headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // A known path under the prefix asked with another method: 405 naming the methods it answers.
    const other = await fetch(`${url}/patching/v1/reports`, { method: 'DELETE' });
    expect({ status: other.status, allow: other.headers.get('allow') }).toEqual({ status: 405, allow: 'POST' });
    // The console under the prefix: its page names its bundle and its data under the prefix too.
    const page = await (await fetch(`${url}/patching/`)).text();
    expect(page).toContain('<script defer src="/patching/console/page.js"></script>');
    expect(page).toContain('<main id="console" data-base="/patching/"></main>');
    expect((await fetch(`${url}/patching/console/page.js`)).status).toBe(200);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('mounted without a prefix, leaves the application’s unknown paths to the application (its own not-found handler kept)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-embed-'));
  const store = openSqliteEventStore({ path: join(dir, 'fleet.db') });
  const service = await HotpatchService.open({ store, tickIntervalMs: 0 });
  const app = Fastify({ logger: false });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ mine: 'not found' }));
  app.get('/hello', async () => ({ hello: 'world' }));
  try {
    // Before: "Not found handler already set for Fastify instance with prefix: '/'" (the plugin set one at the root).
    await app.register(hotpatchPlugin, { service });
    app.addHook('onClose', async () => service.stop());
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const { token } = await issueToken(store, { role: 'operator' });
    expect((await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const unknown = await fetch(`${url}/nope`);
    expect({ status: unknown.status, body: await unknown.json() }).toEqual({ status: 404, body: { mine: 'not found' } });
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('mounted without a prefix in an application with no not-found handler of its own, answers its unknown paths as Fastify does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-embed-'));
  const store = openSqliteEventStore({ path: join(dir, 'fleet.db') });
  const service = await HotpatchService.open({ store, tickIntervalMs: 0 });
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  try {
    await app.register(hotpatchPlugin, { service });
    app.addHook('onClose', async () => service.stop());
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    // The application's route asked with another method, and a path of nobody's: Fastify's own answers, not problems.
    for (const [method, path] of [['DELETE', '/hello'], ['GET', '/nope']] as const) {
      const answer = await fetch(`${url}${path}`, { method });
      expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({ status: 404, type: 'application/json; charset=utf-8' });
    }
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
