/**
 * What one agent or one token may hold of the service, over real HTTP on loopback: the text and meta a report may
 * write on the log (bounded: the log keeps it for ever), the methods a known path answers (405 with Allow), and the
 * long-polls and live tails one token may hold open (429 with Retry-After, each released when its request ends).
 * Every refusal a problem naming the bound, nothing written.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AGENT_META_BYTES, MAX_AGENT_TEXT } from './schemas.js';
import { PROFILE, startHarness, type Harness } from './testing/harness.js';
import { refusedOn } from './testing/refused.js';

const release = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true };

describe('what a report may write', () => {
  let h: Harness;
  let agent: string;
  const refused = refusedOn(() => h);
  const report = (fields: Record<string, unknown>) => ({ id: randomUUID(), device: 'd1', patch: 'HP-2026-02', ...fields });

  beforeAll(async () => {
    h = await startHarness();
    const operator = await h.token('operator');
    agent = await h.token('agent', { tenant: 'default', device: 'd1' });
    expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
    expect((await h.call('POST', '/v1/rollouts', { token: operator, body: release })).status).toBe(201);
    await h.app.hotpatch.tickOnce();
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

  it('the OpenAPI document says the bounds', async () => {
    const doc = (await h.call('GET', '/openapi.json')).body;
    const text = JSON.stringify(doc.paths['/v1/reports'].post);
    expect(text).toContain(`"maxLength":${MAX_AGENT_TEXT}`);
    expect(text).toContain(`at most ${MAX_AGENT_META_BYTES} bytes as JSON`);
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
});
