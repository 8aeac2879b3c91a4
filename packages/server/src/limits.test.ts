/**
 * What one agent or one token may hold of the service, over real HTTP on loopback: the text and meta a report may
 * write on the log (bounded: the log keeps it for ever), the methods a known path answers (405 with Allow), and the
 * long-polls and live tails one token may hold open (429 with Retry-After, each released when its request ends).
 * Every refusal a problem naming the bound, nothing written.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import type { EventStore } from '@hotpatch/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AGENT_META_BYTES, MAX_AGENT_TEXT } from './schemas.js';
import { PROFILE, pilotRollout, RELEASE, startHarness, type Harness } from './testing/harness.js';
import { logHead, refusedOn } from './testing/refused.js';

const release = RELEASE;

describe('what a report may write', () => {
  let h: Harness;
  let agent: string;
  const refused = refusedOn(() => h);
  const report = (fields: Record<string, unknown>) => ({ id: randomUUID(), device: 'd1', patch: 'HP-2026-02', ...fields });

  beforeAll(async () => {
    h = await startHarness();
    agent = (await pilotRollout(h)).agents.get('d1')!;
  });
  afterAll(() => h.close());

  it('a string past 1,000 characters (reason, signal, patch, baseline): 400 naming the field and the bound, nothing written', async () => {
    const long = 'é'.repeat(MAX_AGENT_TEXT + 1);
    const bound = new RegExp(`expected (a non-empty string|free text|a string) of at most ${MAX_AGENT_TEXT} characters, got ${MAX_AGENT_TEXT + 1} characters`);
    for (const [body, field] of [
      [report({ kind: 'apply-failed', reason: long }), 'reason'],
      [report({ kind: 'rollback-failed', reason: long }), 'reason'],
      [report({ kind: 'health', healthy: false, signal: long }), 'signal'],
      [report({ kind: 'applied', patch: long }), 'patch'],
      [{ kind: 'baseline-installed', id: randomUUID(), device: 'd1', baseline: long, signal: 'ok' }, 'baseline'],
      [{ kind: 'baseline-installed', id: randomUUID(), device: 'd1', baseline: 'B-2026-02', signal: long }, 'signal'],
    ] as const) {
      const problem = await refused(h.call('POST', '/v1/reports', { token: agent, body }), 400, 'INVALID_REQUEST', new RegExp(`^body\\.${field}: ${bound.source}$`));
      expect(problem).toMatchObject({ part: 'body', path: field });
    }
  });

  it('a meta past 8 KiB as JSON: 400 naming meta and the bound, nothing written; one at the bound is recorded', async () => {
    const over = { note: 'x'.repeat(MAX_AGENT_META_BYTES) };
    await refused(h.call('POST', '/v1/reports', { token: agent, body: report({ kind: 'applied', meta: over }) }), 400, 'INVALID_REQUEST', new RegExp(`^body\\.meta: expected at most ${MAX_AGENT_META_BYTES} bytes \\(8 KiB\\) as JSON, got ${MAX_AGENT_META_BYTES + 11} bytes$`));
    // Many small keys weigh as much as one long one.
    const wide = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]));
    await refused(h.call('POST', '/v1/reports', { token: agent, body: report({ kind: 'applied', meta: wide }) }), 400, 'INVALID_REQUEST', /^body\.meta: expected at most 8192 bytes/);
    // At the bound, and a reason of 1,000 characters: accepted.
    const at = { note: 'x'.repeat(MAX_AGENT_META_BYTES - 11) };
    expect(Buffer.byteLength(JSON.stringify(at))).toBe(MAX_AGENT_META_BYTES);
    const recorded = await h.call('POST', '/v1/reports', { token: agent, body: report({ kind: 'applied', meta: at }) });
    expect(recorded).toMatchObject({ status: 200, body: { status: 'recorded' } });
  });

  it('an enrolment with a string past 1,000 characters, or a field of its own: 400 naming it, nothing written', async () => {
    const d2 = await h.token('agent', { tenant: 'default', device: 'd2' });
    const enrolment = { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' };
    for (const field of ['edition', 'build', 'ring', 'baseline']) {
      await refused(h.call('PUT', '/v1/devices/d2', { token: d2, body: { ...enrolment, [field]: 'x'.repeat(MAX_AGENT_TEXT + 1) } }), 400, 'INVALID_REQUEST', new RegExp(`^body\\.${field}: expected a non-empty string of at most ${MAX_AGENT_TEXT} characters, got ${MAX_AGENT_TEXT + 1} characters$`));
    }
    await refused(h.call('PUT', '/v1/devices/d2', { token: d2, body: { ...enrolment, notes: 'x'.repeat(3000) } }), 400, 'INVALID_REQUEST', /^body\.notes: unknown field; known: edition, build, /);
    expect((await h.call('PUT', '/v1/devices/d2', { token: d2, body: { ...enrolment, edition: 'x'.repeat(MAX_AGENT_TEXT) } })).status).toBe(201);
  });

  it('the OpenAPI document says the bounds', async () => {
    const doc = (await h.call('GET', '/openapi.json')).body;
    const text = JSON.stringify(doc.paths['/v1/reports'].post);
    expect(text).toContain(`"maxLength":${MAX_AGENT_TEXT}`);
    expect(text).toContain(`at most ${MAX_AGENT_META_BYTES} bytes as JSON`);
    expect(JSON.stringify(doc.paths['/v1/devices/{id}'].put.requestBody)).toContain(`"maxLength":${MAX_AGENT_TEXT}`);
    // The routes that hold a request open say they may answer 429.
    for (const path of ['/v1/devices/{id}/instructions', '/v1/events/stream', '/v1/console/stream']) expect(Object.keys(doc.paths[path].get.responses), path).toContain('429');
  });
});

describe('a known path asked with another method', () => {
  let h: Harness;
  let operator: string;
  const refused = refusedOn(() => h);
  beforeAll(async () => {
    h = await startHarness();
    operator = await h.token('operator');
  });
  afterAll(() => h.close());

  it('405 with Allow and a problem naming the methods, nothing written; an unknown path still 404', async () => {
    for (const [method, path, allow] of [
      ['OPTIONS', '/v1/status', 'GET, HEAD'],
      ['DELETE', '/v1/reports', 'POST'],
      ['POST', '/v1/devices/d1/instructions?wait=1', 'GET, HEAD'],
      ['PATCH', '/v1/devices/d1', 'GET, HEAD, PUT'],
      ['DELETE', '/v1/status', 'GET, HEAD'],
    ] as const) {
      const answer = h.call(method, path, { token: operator });
      const problem = await refused(answer, 405, 'METHOD_NOT_ALLOWED', new RegExp(`^${method} ${path.split('?')[0]}: not a method of this path; allowed: ${allow}$`));
      expect((await answer).headers.get('allow')).toBe(allow);
      expect(problem).toMatchObject({ method, allowed: allow.split(', ') });
    }
    await refused(h.call('OPTIONS', '/v1/nothing-here', { token: operator }), 404, 'UNKNOWN_ROUTE');
    await refused(h.call('GET', '/v1/devices/d1/instructions/more', { token: operator }), 404, 'UNKNOWN_ROUTE');
  });

  it('every path of the OpenAPI document, asked with each method it does not list: 405, Allow naming those it lists (HEAD with GET)', async () => {
    const doc = (await h.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const before = await logHead(h);
    for (const [template, operations] of Object.entries(doc.paths)) {
      const path = template.replace('{id}', 'd1').replace('{name}', 'pilot');
      const listed = Object.keys(operations).map((m) => m.toUpperCase());
      const allow = [...new Set([...listed, ...(listed.includes('GET') ? ['HEAD'] : [])])].sort().join(', ');
      for (const method of ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'].filter((m) => !listed.includes(m))) {
        const answer = await h.call(method, path, { token: operator });
        expect({ at: `${method} ${path}`, status: answer.status, allow: answer.headers.get('allow'), code: answer.body.code }).toEqual({ at: `${method} ${path}`, status: 405, allow, code: 'METHOD_NOT_ALLOWED' });
      }
    }
    expect(await logHead(h)).toBe(before);
  });
});

describe('the long requests one token may hold open', () => {
  let h: Harness;
  let agent: string;
  const refused = refusedOn(() => h);
  const held: AbortController[] = [];
  /** A request left open (a long-poll, a live tail) until aborted; its answer, or undefined once aborted. */
  const open = (path: string, token: string) => {
    const controller = new AbortController();
    held.push(controller);
    const answer = fetch(h.url + path, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal }).then(
      async (r) => ({ status: r.status, body: r.headers.get('content-type')?.includes('event-stream') ? '' : await r.text() }),
      () => undefined,
    );
    return { controller, answer };
  };
  const gauge = async (holding: string) => Number(new RegExp(`hotpatch_open_requests\\{holding="${holding}"\\} (\\d+)`).exec((await h.call('GET', '/metrics')).body)?.[1] ?? 0);
  const until = async (holding: string, count: number) => {
    for (let i = 0; i < 250 && (await gauge(holding)) !== count; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await gauge(holding)).toBe(count);
  };
  const poll = (wait: number) => `/v1/devices/d1/instructions?wait=${wait}&after=1000`;

  beforeAll(async () => {
    h = await startHarness();
    agent = await h.token('agent', { tenant: 'default', device: 'd1' });
    expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
  });
  afterAll(async () => {
    for (const controller of held) controller.abort();
    await h.close();
  });

  it('long-polls: 4 per token; the 5th 429 with Retry-After naming the bound; each let go when it ends (client gone, answered)', async () => {
    const polls = [0, 1, 2, 3].map(() => open(poll(30), agent));
    await until('long-poll', 4);
    const answer = h.call('GET', poll(30), { token: agent });
    const problem = await refused(answer, 429, 'TOO_MANY_OPEN', /^token [0-9a-f]{16} holds 4 long-polls open, the most one token may \(4, openPerToken\.longPolls\): end one, or try again later$/);
    expect(problem).toMatchObject({ holding: 'long-poll', bound: 4 });
    expect((await answer).headers.get('retry-after')).toBe('2');
    // Asking without waiting holds nothing: answered as ever. Another token of the device has a bound of its own.
    expect((await h.call('GET', poll(0), { token: agent })).status).toBe(204);
    const other = open(poll(30), await h.token('agent', { tenant: 'default', device: 'd1' }));
    await until('long-poll', 5);
    other.controller.abort();
    // Its client gone: let go; the next is taken.
    polls[0]!.controller.abort();
    await until('long-poll', 3);
    const next = open(poll(1), agent);
    await until('long-poll', 4);
    expect((await h.call('GET', poll(30), { token: agent })).status).toBe(429);
    // Answered (its wait over, 204): let go too.
    expect(await next.answer).toEqual({ status: 204, body: '' });
    await until('long-poll', 3);
    const last = open(poll(30), agent);
    await until('long-poll', 4);
    for (const p of [...polls, last]) p.controller.abort();
    await until('long-poll', 0);
  });

  it('live tails: 8 per token, the console’s and the log’s together; the 9th 429; let go when its client goes, and when the server closes', async () => {
    const operator = await h.token('operator');
    const tails = Array.from({ length: 8 }, (_, i) => open(i % 2 === 0 ? '/v1/events/stream' : '/v1/console/stream', operator));
    await until('tail', 8);
    for (const path of ['/v1/events/stream', '/v1/console/stream']) {
      const answer = h.call('GET', path, { token: operator });
      await refused(answer, 429, 'TOO_MANY_OPEN', /holds 8 tails open, the most one token may \(8, openPerToken\.tails\)/);
      expect((await answer).headers.get('retry-after')).toBe('2');
    }
    open('/v1/events/stream', await h.token('auditor'));
    await until('tail', 9);
    tails[3]!.controller.abort();
    await until('tail', 8);
    open('/v1/events/stream', operator);
    await until('tail', 9);
    // The server closing ends every tail: none is held after.
    const registry = h.app.hotpatch.metrics.registry;
    await h.app.close();
    const values = (await registry.getSingleMetric('hotpatch_open_requests')!.get()).values;
    expect(values.map((v) => [v.labels.holding, v.value]).sort()).toEqual([['long-poll', 0], ['tail', 0]]);
  });
});

describe('the bounds are the server’s options', () => {
  it('openPerToken: { longPolls: 1, tails: 1 }', async () => {
    const h = await startHarness({ openPerToken: { longPolls: 1, tails: 1 } });
    const controller = new AbortController();
    try {
      const operator = await h.token('operator');
      const first = fetch(`${h.url}/v1/events/stream`, { headers: { authorization: `Bearer ${operator}` }, signal: controller.signal });
      expect((await first).status).toBe(200);
      const second = await h.call('GET', '/v1/events/stream', { token: operator });
      expect(second).toMatchObject({ status: 429, body: { code: 'TOO_MANY_OPEN', bound: 1, detail: expect.stringMatching(/\(1, openPerToken\.tails\)/) } });
    } finally {
      controller.abort();
      await h.close();
    }
  });
});

describe('a client gone before its long request starts', () => {
  // Its token's read held until the client has gone (a slow store, a tenant's first request): the request's close has
  // come and gone before the bound counts it and before the route listens for it. Found by the final review: each such
  // long-poll held a waiter for its whole wait and each tail for ever, none counted against the bound.
  it('holds nothing: no count, no waiter, for a long-poll and for a live tail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotpatch-gone-'));
    const real = openSqliteEventStore({ path: join(dir, 'hotpatch.db'), durability: 'normal' });
    let hold: { reached: () => void; released: Promise<void> } | undefined;
    const store = new Proxy(real, {
      get(target, key) {
        if (key === 'readState')
          return async (stream: string, ...rest: unknown[]) => {
            const h = hold;
            if (h !== undefined && stream.startsWith('token/')) {
              h.reached();
              await h.released;
            }
            return (target.readState as (...a: unknown[]) => unknown)(stream, ...rest);
          };
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as EventStore;
    const h = await startHarness({ store });
    try {
      const agent = await h.token('agent', { tenant: 'default', device: 'd1' });
      const auditor = await h.token('auditor');
      expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
      const { port } = new URL(h.url);
      for (const [path, token] of [
        ['/v1/devices/d1/instructions?wait=30&after=1000', agent],
        ['/v1/events/stream', auditor],
      ] as const) {
        let release!: () => void;
        const reached = new Promise<void>((resolve) => {
          hold = { reached: resolve, released: new Promise<void>((r) => (release = r)) };
        });
        const socket = connect(Number(port), '127.0.0.1');
        socket.on('error', () => {});
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
        await reached;
        hold = undefined;
        socket.destroy();
        // The server sees the socket closed before the token's read is answered.
        await new Promise((resolve) => setTimeout(resolve, 100));
        release();
        await new Promise((resolve) => setTimeout(resolve, 200));
        const metrics = (await h.call('GET', '/metrics')).body as string;
        expect({ path, open: /hotpatch_open_requests\{holding="(?:long-poll|tail)"\} [1-9]/.test(metrics), waiting: h.app.hotpatch.changes.waiting() }).toEqual({ path, open: false, waiting: false });
      }
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
