/**
 * Waiting over HTTP: an agent's long-poll answered as soon as a tick instructs its device (woken by the append, not
 * by polling), 204 after its wait otherwise; the live tail of the log (SSE) resumed with Last-Event-ID from the
 * position after it, and a client that does not read dropped rather than buffered.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE, startHarness, type Harness } from './testing/harness.js';
import { readEvents } from './testing/sse-client.js';

const release = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true };

describe('long-poll and live tail', () => {
  let h: Harness;
  let agent: string;
  let operator: string;
  let auditor: string;
  beforeAll(async () => {
    h = await startHarness({ tail: { heartbeatMs: 200, drainTimeoutMs: 300 } });
    operator = await h.token('operator');
    auditor = await h.token('auditor');
    agent = await h.token('agent', { tenant: 'default', device: 'd1' });
    expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
  });
  afterAll(() => h.close());

  it('answers 204 after the wait when there is nothing to do', async () => {
    const started = Date.now();
    const r = await h.call('GET', '/v1/devices/d1/instructions?wait=1', { token: agent });
    expect(r.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('answers a waiting agent as soon as a tick instructs its device, then waits for a later version', async () => {
    const started = Date.now();
    const waiting = h.call('GET', '/v1/devices/d1/instructions?wait=30', { token: agent });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await h.call('POST', '/v1/rollouts', { token: operator, body: release })).status).toBe(201);
    await h.app.hotpatch.tickOnce();
    const r = await waiting;
    expect(r).toMatchObject({ status: 200, body: { device: 'd1', action: 'apply', patch: 'HP-2026-02', state: 'applying' } });
    expect(Date.now() - started).toBeLessThan(5000);
    // With the version it carried out, the agent waits for the next instruction: its report moves the device on.
    const next = h.call('GET', `/v1/devices/d1/instructions?wait=30&after=${r.body.version}`, { token: agent });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const reported = await h.call('POST', '/v1/reports', { token: agent, body: { kind: 'applied', id: '0190b6c0-0000-7000-8000-0000000000a1', device: 'd1', patch: 'HP-2026-02' } });
    expect(reported.status).toBe(200);
    expect((await next).body).toMatchObject({ action: 'check-health', patch: 'HP-2026-02' });
  });

  it('tails the log as server-sent events, ids the positions, and resumes after Last-Event-ID', async () => {
    const url = `${h.url}/v1/events/stream?after=0`;
    const first = await readEvents(url, auditor, 4);
    expect(first.map((e) => e.id)).toEqual(first.map((e) => e.data.position));
    expect(first.map((e) => e.id)).toEqual([...first.map((e) => e.id)].sort((a, b) => a - b));
    const resumed = await readEvents(url, auditor, 2, { 'last-event-id': String(first[1]!.id) });
    expect(resumed.map((e) => e.id)).toEqual([first[2]!.id, first[3]!.id]);
    // A live event comes as it is appended.
    const end = (await h.store.readAll({ fromPosition: 1, limit: 100_000 })).at(-1)!.position;
    const live = readEvents(`${h.url}/v1/events/stream`, auditor, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await h.call('POST', '/v1/rings/broad/pause', { token: operator, body: { reason: 'watch' } });
    const [event] = await live;
    expect(event).toMatchObject({ id: end + 1, data: { stream: 'ring/broad', type: 'RingPaused' } });
  });

  // A revocation refuses a token "from the next request on": a tail is one request that lasts, so it checks on.
  it.each(['/v1/events/stream', '/v1/console/stream'])('%s: a token revoked while it follows gets nothing after, its tail ends', async (path) => {
    const token = await h.token('auditor');
    const end = (await h.store.readAll({ fromPosition: 1, limit: 100_000 })).at(-1)!.position;
    const live = readEvents(`${h.url}${path}?after=${end}`, token, 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await h.call('POST', '/v1/rings/pilot/pause', { token: operator, body: { reason: 'watch' } })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await h.call('DELETE', `/v1/tokens/${token.split('_')[1]}`, { token: operator })).status).toBe(200);
    expect((await h.call('POST', '/v1/rings/pilot/resume', { token: operator, body: {} })).status).toBe(200);
    // The pause, seen while the token held; then the stream ends: neither the revocation nor the resume.
    expect((await live).map((e) => e.data.type)).toEqual(['RingPaused']);
  });

  it('sends a heartbeat comment while the log is quiet', async () => {
    const response = await fetch(`${h.url}/v1/events/stream`, { headers: { authorization: `Bearer ${auditor}` } });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
  });

  it('drops a client that does not read, instead of buffering for it', async () => {
    const before = (await h.call('GET', '/metrics')).body as string;
    expect(before).toMatch(/hotpatch_live_tail_dropped_total 0/);
    // More events than the sockets' buffers hold (16 MB), and a client that never reads.
    const padding = 'x'.repeat(8000);
    await h.store.batch!(async () => {
      for (let i = 0; i < 2000; i++) await h.store.appendToStream(`ring/r${i}`, [{ type: 'RingPaused', time: '2026-01-14T00:00:00.000Z', data: { by: 'service', reason: padding } }]);
    });
    // A raw connection that sends its request and never reads a byte of the answer (a paused socket does not see
    // its peer go either: the server's count says it dropped the client).
    const { port } = new URL(h.url);
    const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => {
      socket.write(`GET /v1/events/stream?after=0 HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${auditor}\r\n\r\n`);
      socket.pause();
    });
    socket.on('error', () => {});
    try {
      let metrics = '';
      for (let i = 0; i < 100 && !/hotpatch_live_tail_dropped_total 1/.test(metrics); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        metrics = (await h.call('GET', '/metrics')).body as string;
      }
      expect(metrics).toMatch(/hotpatch_live_tail_dropped_total 1/);
    } finally {
      socket.destroy();
    }
  });
});
