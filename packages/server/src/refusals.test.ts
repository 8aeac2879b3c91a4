/**
 * The refusals by the service's own bounds are counted at /metrics, each under a reason of a fixed set
 * (`hotpatch_http_refusals_total{reason}`): never a value the client chose (a method, a path, a token) as a label.
 */
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL_REASONS } from './refusals.js';
import { PROFILE, startHarness, type Harness } from './testing/harness.js';

/** The refusals counted so far, by reason, as /metrics says them. */
async function refusals(h: Harness): Promise<Record<string, number>> {
  const text = (await h.call('GET', '/metrics')).body as string;
  const out: Record<string, number> = {};
  for (const [, reason, value] of text.matchAll(/^hotpatch_http_refusals_total\{reason="([^"]*)"\} (\d+)$/gm)) out[reason!] = Number(value);
  return out;
}

/** Sends `text` on a connection of its own and resolves with what came back once the server closed it. */
function rawSend(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(text);
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8'))));
}

describe('refusals by the service’s bounds, counted by reason', () => {
  let h: Harness;
  let agent: string;
  let auditor: string;
  beforeAll(async () => {
    h = await startHarness({ openPerToken: { tails: 1 }, requestTimeoutMs: 300 });
    agent = await h.token('agent', { tenant: 'default', device: 'd1' });
    auditor = await h.token('auditor');
    expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
  });
  afterAll(() => h.close());

  /** Makes the refusal, checks its status, and that it counted once under `reason` and nothing else moved. */
  async function counts(reason: string, status: number, refuse: () => Promise<number>): Promise<void> {
    const before = await refusals(h);
    expect(await refuse()).toBe(status);
    expect(await refusals(h)).toEqual({ ...before, [reason]: before[reason]! + 1 });
  }

  it('every reason is there from the start, at 0', async () => {
    expect(await refusals(h)).toEqual(Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])));
  });

  it('401, 405, 413, 415, 400 for a body nested too deep, 429, 431 and 408: each under its reason', async () => {
    await counts('unauthorized', 401, async () => (await h.call('GET', '/v1/status')).status);
    await counts('unauthorized', 401, async () => (await h.call('GET', '/v1/status', { token: 'hp_0123456789abcdef_nope' })).status);
    await counts('method-not-allowed', 405, async () => (await h.call('DELETE', '/v1/reports', { token: agent })).status);
    await counts('body-too-large', 413, async () => (await h.call('POST', '/v1/reports', { token: agent, raw: `{"meta":"${'x'.repeat(1024 * 1024)}"}` })).status);
    await counts('unsupported-media-type', 415, async () => (await h.call('POST', '/v1/reports', { token: agent, raw: 'kind=applied', headers: { 'content-type': 'text/plain' } })).status);
    const deep = `{"kind":"applied","id":"${randomUUID()}","device":"d1","patch":"HP-2026-02","meta":{"a":${'['.repeat(100)}${']'.repeat(100)}}}`;
    await counts('body-too-deep', 400, async () => (await h.call('POST', '/v1/reports', { token: agent, raw: deep })).status);
    const controller = new AbortController();
    const tail = await fetch(`${h.url}/v1/events/stream`, { headers: { authorization: `Bearer ${auditor}` }, signal: controller.signal });
    expect(tail.status).toBe(200);
    await counts('too-many-open', 429, async () => (await h.call('GET', '/v1/events/stream', { token: auditor })).status);
    controller.abort();
    await counts('headers-too-large', 431, async () => Number(/^HTTP\/1\.1 (\d+)/.exec(await rawSend(h.url, `GET /v1/status HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${'a'.repeat(100_000)}\r\n\r\n`))?.[1]));
    await counts('request-timeout', 408, async () => Number(/^HTTP\/1\.1 (\d+)/.exec(await rawSend(h.url, `POST /v1/reports HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${agent}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`))?.[1]));
  });

  it('other answers are not refusals by a bound (a body of the wrong shape, a path not there, a conflict); no label a client chose', async () => {
    const before = await refusals(h);
    expect((await h.call('POST', '/v1/reports', { token: agent, body: { kind: 'nonsense' } })).status).toBe(400);
    expect((await h.call('GET', '/v1/no-such-thing', { token: agent })).status).toBe(404);
    expect((await h.call('GET', '/v1/events?after=1000000', { token: auditor })).status).toBe(409);
    expect((await h.call('BREW', '/v1/status', { token: agent })).status).toBeGreaterThanOrEqual(400);
    expect(await refusals(h)).toEqual(before);
    expect(Object.keys(await refusals(h)).sort()).toEqual([...REFUSAL_REASONS].sort());
  });
});
