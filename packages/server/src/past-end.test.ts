/**
 * A reader that names a position past the log's end (a Last-Event-ID kept from a log since restored from an older
 * backup, or made up) is refused at once with 409 POSITION_PAST_END naming the log's end, not left waiting in silence.
 * "Past the end" is decided against the store's last position read then, not the instance's projection: two instances
 * over one log (two store objects on one SQLite file; two pools on one PostgreSQL schema), written by one and read on
 * the other, whose projection has not seen the writes. A named tenant's positions are the log's (they skip the others'
 * events): a position past its own last event but not past the log's end is accepted.
 */
import { describe, expect, it } from 'vitest';
import type { EventStore } from '@hotpatch/store';
import type { HttpProblem } from './problem.js';
import { MAX_AFTER } from './schemas.js';
import { refusePastEnd } from './sse.js';
import { PROFILE, startHarness, type Harness } from './testing/harness.js';
import { logHead, refusedOn } from './testing/refused.js';
import { sharedLogCases } from './testing/shared-log.js';

const cases = sharedLogCases('past-end.test.ts', { sqlite: 'SQLite, two instances on one file', postgres: 'PostgreSQL, two instances on one schema' });

/** Opens a live tail and closes it at once: its status, and the problem when refused. */
async function openTail(url: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: any }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: controller.signal });
  const type = response.headers.get('content-type') ?? '';
  if (response.status === 200) {
    controller.abort();
    return { status: 200, type, body: undefined };
  }
  return { status: response.status, type, body: JSON.parse(await response.text()) };
}

const enrol = async (h: Harness, token: string, device: string) =>
  expect((await h.call('PUT', `/v1/devices/${device}`, { token, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);

describe.each(cases)('%s', (_name, runs, opener) => {
  it.runIf(runs)('a page or a live tail after a position past the log’s end is 409 naming the end; at the end or before, served', async () => {
    const open = await opener();
    const a = await startHarness({ store: await open(), followPollMs: 200 });
    const b = await startHarness({ store: await open(), followPollMs: 200 });
    try {
      const auditor = await b.token('auditor');
      const admin = await b.token('tenant-admin', { tenant: 'acme' });
      const acmeAuditor = await b.token('auditor', { tenant: 'acme' });
      await enrol(b, await b.token('agent', { tenant: 'acme', device: 'a1' }), 'a1');
      const acmeLast = await logHead(b);
      // The default tenant's writes come after acme's last event: the log's end is past it.
      await enrol(b, await b.token('agent', { tenant: 'default', device: 'd1' }), 'd1');
      const end = await logHead(b);
      expect(end).toBeGreaterThan(acmeLast);
      const refused = refusedOn(() => a);

      for (const [who, token] of [['service-wide auditor', auditor], ['acme’s auditor', acmeAuditor]] as const) {
        // Written by the other instance, after a's projection was read: a serves it (the store's end is the truth).
        const page = await a.call('GET', `/v1/events?after=${end}`, { token });
        expect({ who, status: page.status, body: page.body }).toEqual({ who, status: 200, body: { events: [], next: null } });
        expect({ who, ...(await openTail(`${a.url}/v1/events/stream`, token, { 'last-event-id': String(end) })) }).toMatchObject({ who, status: 200, type: expect.stringMatching(/^text\/event-stream/) });
        expect({ who, ...(await openTail(`${a.url}/v1/events/stream?after=${end}`, token)) }).toMatchObject({ who, status: 200 });
        for (const past of [end + 1, end + 1000, MAX_AFTER]) {
          const problem = await refused(a.call('GET', `/v1/events?after=${past}`, { token }), 409, 'POSITION_PAST_END', new RegExp(`after position ${past}: past the log’s end \\(${end}\\)`));
          expect(problem).toMatchObject({ after: past, end, instance: '/v1/events' });
          await refused(openTail(`${a.url}/v1/events/stream`, token, { 'last-event-id': String(past) }), 409, 'POSITION_PAST_END');
          expect((await refused(openTail(`${a.url}/v1/events/stream?after=${past}`, token), 409, 'POSITION_PAST_END')).end).toBe(end);
        }
      }
      // acme's reader at a position past acme's own last event, not past the log's: served; its page has nothing.
      expect((await a.call('GET', `/v1/events?after=${acmeLast}`, { token: acmeAuditor })).body).toEqual({ events: [], next: null });
      for (const token of [admin, acmeAuditor, auditor]) {
        expect(await openTail(`${a.url}/v1/console/stream?after=${end}`, token)).toMatchObject({ status: 200 });
        expect((await refused(openTail(`${a.url}/v1/console/stream`, token, { 'last-event-id': String(end + 1) }), 409, 'POSITION_PAST_END')).end).toBe(end);
      }
      // The rule is the log's end now: once the log grows past a position, that position is served.
      await enrol(b, await b.token('agent', { tenant: 'default', device: 'd2' }), 'd2');
      expect((await a.call('GET', `/v1/events?after=${end + 1}`, { token: auditor })).status).toBe(200);
      expect(await openTail(`${a.url}/v1/events/stream`, auditor, { 'last-event-id': String(end + 1) })).toMatchObject({ status: 200 });
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});

describe('refusePastEnd', () => {
  it('refuses exactly the positions past the last one, naming it, whatever gaps the positions have', async () => {
    for (const positions of [[], [1], [1, 2, 3, 4, 5, 6, 7], [3, 4, 9, 10, 40], [2 ** 40]]) {
      const log = { readAll: async (o: { fromPosition: number; limit: number }) => positions.filter((p) => p >= o.fromPosition).slice(0, o.limit).map((position) => ({ position })) } as unknown as EventStore;
      const end = positions.at(-1) ?? 0;
      for (const after of [0, 1, 2, 3, 5, 8, 9, 10, 11, 39, 40, 41, 1000, 2 ** 40 - 1, 2 ** 40, 2 ** 40 + 1, MAX_AFTER]) {
        const refused = await refusePastEnd(log, after).then(() => undefined, (error: unknown) => error as HttpProblem);
        expect({ positions, after, refused: refused && { status: refused.status, code: refused.code, fields: refused.fields } }).toEqual({ positions, after, refused: after > end ? { status: 409, code: 'POSITION_PAST_END', fields: { after, end } } : undefined });
      }
    }
  });
});
