/**
 * What an attacker (or a careless client) sends, over real HTTP on loopback: every answer a problem
 * (`application/problem+json`) naming what is wrong and where, nothing written, the service serving on.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { createEngine } from '@hotpatch/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeToken } from './tokens.js';
import { PROFILE, pilotRollout, startHarness, type Harness } from './testing/harness.js';
import { refusedOn } from './testing/refused.js';

/** One request written by hand (headers twice, a path fetch would normalise, a header past the limit); its answer. */
async function rawHttp(url: string, lines: string[], body = ''): Promise<{ status: number; type: string; body: any }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.end([...lines, `host: ${hostname}:${port}`, 'connection: close', `content-length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
  await closed;
  const text = Buffer.concat(chunks).toString('utf8');
  const [head, ...rest] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head!)?.[1]);
  const type = /\r\ncontent-type: ([^\r]*)/i.exec(head!)?.[1] ?? '';
  const payload = rest.join('\r\n\r\n');
  return { status, type, body: type.includes('json') ? JSON.parse(payload) : payload };
}

describe('a hostile client', () => {
  let h: Harness;
  let agent: string;
  let operator: string;
  const refused = refusedOn(() => h);

  beforeAll(async () => {
    h = await startHarness();
    const started = await pilotRollout(h);
    operator = started.operator;
    agent = started.agents.get('d1')!;
  });
  afterAll(() => h.close());

  it('a position no log reaches (after or Last-Event-ID past 2^53 - 2), or one not written in decimal: 400 naming the query or the header', async () => {
    for (const after of ['9007199254740991', '9007199254740992', '99999999999999999999999']) {
      await refused(h.call('GET', `/v1/events?after=${after}`, { token: operator }), 400, 'INVALID_REQUEST', /^query\.after: /);
      await refused(h.call('GET', `/v1/events/stream?after=${after}`, { token: operator }), 400, 'INVALID_REQUEST', /^query\.after: /);
    }
    for (const id of ['0x10', '1e3', '+7', '7.0', '9007199254740991']) {
      await refused(h.call('GET', '/v1/events/stream', { token: operator, headers: { 'last-event-id': id } }), 400, 'INVALID_LAST_EVENT_ID', /^Last-Event-ID: /);
    }
  });

  it('a body that is not JSON says where; one that reaches for the prototype says so: 400, nothing written', async () => {
    await refused(h.call('POST', '/v1/reports', { token: agent, raw: '{"kind": "applied",}' }), 400, /JSON/, /^body: not valid JSON: .*position 19/);
    await refused(h.call('POST', '/v1/reports', { token: agent, raw: `{"kind":"applied","id":"${randomUUID()}","device":"d1","patch":"HP-2026-02","meta":{"__proto__":{"x":1}}}` }), 400, /JSON/, /^body: a key "__proto__"/);
    await refused(h.call('POST', '/v1/reports', { token: agent, raw: `{"kind":"applied","meta":{"constructor":{"prototype":{"x":1}}}}` }), 400, /JSON/, /^body: a key "__proto__", or "constructor" holding "prototype"/);
  });

  it('a tenant named with a space at either end, which no Hotpatch-Tenant header can name (HTTP trims it): 400, no token', async () => {
    for (const tenant of [' acme', 'acme ']) {
      await refused(h.call('POST', '/v1/tokens', { token: operator, body: { role: 'auditor', tenant } }), 400, 'INVALID_TENANT', /begins or ends with a space/);
    }
  });

  it('a compliance target past 1: 400 saying the range', async () => {
    for (const target of ['2', '1.0001', '0', '-1']) {
      await refused(h.call('GET', `/v1/status?target=${target}`, { token: operator }), 400, 'INVALID_REQUEST', /^query\.target: expected a share above 0 and at most 1, got /);
    }
    expect((await h.call('GET', '/v1/status?target=1', { token: operator })).status).toBe(200);
  });

  it('a body sent as text/plain (what a page of another origin may send without asking): 415, nothing written', async () => {
    const report = JSON.stringify({ kind: 'applied', id: randomUUID(), device: 'd1', patch: 'HP-2026-02' });
    await refused(h.call('POST', '/v1/reports', { token: agent, raw: report, headers: { 'content-type': 'text/plain' } }), 415, /MEDIA_TYPE/);
    await refused(h.call('POST', '/v1/reports', { token: agent, raw: report, headers: { 'content-type': 'text/plain; charset=utf-8' } }), 415, /MEDIA_TYPE/);
  });

  it('two Authorization headers, even with one of them good: 401, nothing read or written', async () => {
    const me = `authorization: Bearer ${operator}`;
    for (const other of [me, 'authorization: Bearer hp_0000000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']) {
      for (const pair of [[me, other], [other, me]]) {
        await refused(rawHttp(h.url, ['GET /v1/status HTTP/1.1', ...pair]), 401, 'UNAUTHORIZED', /more than one Authorization header/);
      }
    }
    expect((await rawHttp(h.url, ['GET /v1/status HTTP/1.1', me])).status).toBe(200);
  });

  it('a path the router cannot read, an id of any length, a header past the limit: problems, not the framework’s JSON', async () => {
    await refused(rawHttp(h.url, ['GET /v1/devices/%ZZ HTTP/1.1', `authorization: Bearer ${operator}`]), 400, 'INVALID_REQUEST', /%ZZ/);
    // An id up to the schema's 200 characters is an id (this one unknown), whatever its encoding's length; longer, 400.
    const long = 'é'.repeat(200);
    await refused(h.call('GET', `/v1/devices/${encodeURIComponent(long)}`, { token: operator }), 404, 'UNKNOWN_DEVICE');
    await refused(h.call('GET', `/v1/devices/${'a'.repeat(5000)}`, { token: operator }), 400, 'INVALID_REQUEST', /^params\.id: /);
    const big = await rawHttp(h.url, ['GET /v1/status HTTP/1.1', `authorization: Bearer ${'a'.repeat(100_000)}`]);
    expect(big).toMatchObject({ status: 431, type: expect.stringMatching(/^application\/problem\+json/), body: { status: 431, code: 'HEADERS_TOO_LARGE' } });
    // Content-Length and Transfer-Encoding both (a smuggling attempt): Node's parser refuses it; a problem says so.
    const smuggled = await rawHttp(h.url, ['POST /v1/reports HTTP/1.1', `authorization: Bearer ${agent}`, 'transfer-encoding: chunked'], '0\r\n\r\n');
    expect(smuggled).toMatchObject({ status: 400, type: expect.stringMatching(/^application\/problem\+json/), body: { code: 'INVALID_HTTP', detail: expect.stringMatching(/HPE_/) } });
    expect((await h.call('GET', '/healthz')).status).toBe(200);
  });

  it('a report nested without end (meta 100,000 levels deep): 400 naming the body, nothing written', async () => {
    const deep = `{"kind":"applied","id":"${randomUUID()}","device":"d1","patch":"HP-2026-02","meta":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    await refused(h.call('POST', '/v1/reports', { token: agent, raw: deep }), 400, 'INVALID_REQUEST', /^body\.meta\.a(\[0\])+: nested deeper than/);
  });

  it('an agent cannot write the service’s own meta (source, instance) on the events of its report', async () => {
    for (const meta of [{ source: 'operator-console' }, { instance: 'another' }, { downtimeMinutes: 3, source: 'hotpatch-serve' }]) {
      const report = { kind: 'applied', id: randomUUID(), device: 'd1', patch: 'HP-2026-02', meta };
      await refused(h.call('POST', '/v1/reports', { token: agent, body: report }), 400, 'INVALID_REQUEST', /^body\.meta\.(source|instance): set by the service/);
    }
  });

  it('a token revoked while its agent waits for an instruction: 401 when the wait ends or the instruction comes, never the instruction', async () => {
    const d3 = await h.token('agent', { tenant: 'default', device: 'd3' });
    expect((await h.call('PUT', '/v1/devices/d3', { token: d3, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
    const version = (await h.store.readState('device/d3')).version;
    // Waits past what it has; revoked meanwhile; then the device is told to apply a patch (written as a tick would).
    const waiting = h.call('GET', `/v1/devices/d3/instructions?wait=5&after=${version}`, { token: d3 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await revokeToken(h.store, d3.split('_')[1]!);
    const engine = createEngine({ store: h.store });
    await engine.execute({ type: 'StagePatch', device: 'd3', hotpatch: { id: 'HP-X', baseline: 'B-2026-01', requires: [], liveRevert: true } });
    await engine.execute({ type: 'StartApply', device: 'd3', patch: 'HP-X' });
    expect((await h.store.readState('device/d3')).version).toBeGreaterThan(version);
    const answer = await waiting;
    expect(answer).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', detail: expect.stringMatching(/was revoked/) } });
    // One that waits out its time revoked: 401 too, not 204.
    const d4 = await h.token('agent', { tenant: 'default', device: 'd3' });
    const idle = h.call('GET', `/v1/devices/d3/instructions?wait=1&after=1000`, { token: d4 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await revokeToken(h.store, d4.split('_')[1]!);
    expect(await idle).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
  });
});

describe('a client that sends a byte now and then', () => {
  it('gets a 408 problem and its connection closed once its request is late; a long-poll longer than that is answered as ever', async () => {
    const h = await startHarness({ requestTimeoutMs: 500 });
    try {
      const agent = await h.token('agent', { tenant: 'default', device: 'd1' });
      expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
      const { hostname, port } = new URL(h.url);
      const socket = connect(Number(port), hostname);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const started = Date.now();
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
      socket.write(`POST /v1/reports HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${agent}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`);
      const trickle = setInterval(() => socket.writable && socket.write(' '), 100);
      const after = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000))]);
      clearInterval(trickle);
      socket.destroy();
      expect(after).toBeGreaterThan(0);
      const text = Buffer.concat(chunks).toString('utf8');
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(text.split('\r\n\r\n')[1]!)).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
      // A wait of 1 s (twice the bound) is not a late request.
      expect((await h.call('GET', '/v1/devices/d1/instructions?wait=1&after=100', { token: agent })).status).toBe(204);
    } finally {
      await h.close();
    }
  });
});

describe('a request the parser refuses, pipelined behind an answer already under way', () => {
  it('closes the connection without writing a second status line into the answer (as Node does)', async () => {
    const h = await startHarness();
    try {
      const auditor = await h.token('auditor');
      const { hostname, port } = new URL(h.url);
      const socket = connect(Number(port), hostname);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      // A live tail's answer starts at once (200, text/event-stream); the garbage behind it fails Node's parser.
      socket.write(`GET /v1/events/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${auditor}\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.write('NOT HTTP AT ALL\r\n\r\n');
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3000))]);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});
