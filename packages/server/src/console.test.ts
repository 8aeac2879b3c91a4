/**
 * The live console over HTTP: its page (no inline script, a Content-Security-Policy, its bundle from the service
 * itself); its data, the report's ReportData of the caller's tenant, whose rollout is status's and whose device is
 * `hotpatch report --device`'s (another tenant's device: unknown); its tail, the
 * tenant's events alone, named and not told. The page itself runs in Chromium in console.browser.test.ts.
 */
import { buildReportData, CONSOLE_CSP } from '@hotpatch/report';
import { deviceStream } from '@hotpatch/core';
import { deviceHistory } from '@hotpatch/replay';
import { readLogPages, scopeStore } from '@hotpatch/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_RELEASE, RELEASE, startConsoleFleet, type ConsoleFleet } from './testing/console-fleet.js';
import { readEvents } from './testing/sse-client.js';

const lanesOf = (data: { rollout?: { lanes: Array<{ devices: Array<{ id: string }> }> } | null; fleet: Array<{ devices: Array<{ id: string }> }> }) =>
  [...(data.rollout?.lanes ?? []), ...data.fleet].flatMap((l) => l.devices.map((d) => d.id)).sort();

describe('the live console over HTTP', () => {
  let f: ConsoleFleet;
  beforeAll(async () => {
    f = await startConsoleFleet();
  });
  afterAll(() => f.h.close());

  it('serves its page with a Content-Security-Policy, no inline script, and the report’s bundle beside it', async () => {
    const page = await f.h.call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toMatch(/default-src 'self'/);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(page.body).toContain('<script defer src="/console/page.js"></script>');
    expect(page.body.match(/<script\b(?![^>]*\bsrc=)/g)).toBeNull();
    expect(page.body).not.toMatch(/\sstyle=/);
    const script = await f.h.call('GET', '/console/page.js');
    expect(script).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/javascript/) });
    expect(script.body).toContain('hotpatch console');
    expect((await f.h.call('GET', '/console/page.css')).type).toMatch(/^text\/css/);
  });

  it('gives an operator the latest rollout of the tenant, its progress the one status gives', async () => {
    const r = await f.h.call('GET', '/v1/console/data', { token: f.tokens.operator });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ caller: { role: 'operator', tenant: 'default', party: 'service', serviceWide: true }, rollouts: [RELEASE.id], subject: { kind: 'rollout', id: RELEASE.id } });
    const status = await f.h.call('GET', `/v1/rollouts/${RELEASE.id}`, { token: f.tokens.operator });
    expect(r.body.data.rollout.progress).toEqual(status.body);
    expect(lanesOf(r.body.data)).toEqual(['d1', 'd2', 'd3']);
    expect(r.body.position).toBeGreaterThan(0);
    const fleet = await f.h.call('GET', '/v1/console/data?fleet=true', { token: f.tokens.auditor });
    expect(fleet.body).toMatchObject({ caller: { role: 'auditor' }, subject: { kind: 'fleet' } });
    expect(lanesOf(fleet.body.data)).toEqual(['d1', 'd2', 'd3']);
    expect((await f.h.call('GET', `/v1/console/data?fleet=true&rollout=${RELEASE.id}`, { token: f.tokens.operator })).status).toBe(400);
  });

  it('gives a tenant admin its tenant alone: another tenant’s rollout answers as one that does not exist', async () => {
    const r = await f.h.call('GET', '/v1/console/data', { token: f.tokens.acmeAdmin });
    expect(r.body).toMatchObject({ caller: { role: 'tenant-admin', tenant: 'acme', party: 'tenant', serviceWide: false }, rollouts: [ACME_RELEASE.id], subject: { id: ACME_RELEASE.id } });
    expect(lanesOf(r.body.data)).toEqual(['a1', 'a2']);
    expect(lanesOf((await f.h.call('GET', '/v1/console/data?fleet=true', { token: f.tokens.acmeAdmin })).body.data)).toEqual(['a1', 'a2']);
    const foreign = await f.h.call('GET', `/v1/console/data?rollout=${RELEASE.id}`, { token: f.tokens.acmeAdmin });
    const missing = await f.h.call('GET', '/v1/console/data?rollout=HP-NONE', { token: f.tokens.acmeAdmin });
    expect(foreign).toMatchObject({ status: 404, body: { code: 'UNKNOWN_ROLLOUT' } });
    expect(missing).toMatchObject({ status: 404, body: { code: 'UNKNOWN_ROLLOUT' } });
    expect((await f.h.call('GET', '/v1/console/data', { token: f.tokens.acmeAdmin, headers: { 'hotpatch-tenant': 'default' } })).status).toBe(404);
  });

  // Each unknown id read the tenant's log whole (as a first view does: a minute and a gigabyte on 100,000 devices) to
  // answer 404: any reader could keep the service busy with ids that do not exist.
  it('answers a rollout the tenant does not have without reading its log', async () => {
    const store = f.h.store;
    const readAll = store.readAll.bind(store);
    // Reads from the start of the log (the service's others read on from where they stopped).
    let fromStart = 0;
    store.readAll = async (options) => {
      if ((options?.fromPosition ?? 1) <= 1) fromStart++;
      return readAll(options);
    };
    try {
      for (const id of ['HP-NONE-1', ACME_RELEASE.id]) {
        expect(await f.h.call('GET', `/v1/console/data?rollout=${id}`, { token: f.tokens.operator })).toMatchObject({ status: 404, body: { code: 'UNKNOWN_ROLLOUT' } });
      }
    } finally {
      store.readAll = readAll;
    }
    expect(fromStart).toBe(0);
  });

  it('keeps a view between requests and reads it on as the log grows: its data is a fresh read’s', async () => {
    const fresh = async (subject: { kind: 'rollout'; id: string } | { kind: 'fleet' }) => {
      const view = scopeStore(f.h.store, undefined);
      return buildReportData({ subject, source: 'hotpatch serve, tenant default', read: async (add) => { for await (const page of readLogPages(view)) page.forEach(add); } });
    };
    const ask = async (query: string) => (await f.h.call('GET', `/v1/console/data${query}`, { token: f.tokens.operator })).body;
    const before = await ask('');
    await f.report('d2', 'apply-failed', '0190b6c0-0000-7000-8000-0000000000c3');
    const after = await ask('');
    expect(after.position).toBeGreaterThan(before.position);
    expect(after.data).toEqual(JSON.parse(JSON.stringify(await fresh({ kind: 'rollout', id: RELEASE.id }))));
    expect((await ask('?fleet=true')).data).toEqual(JSON.parse(JSON.stringify(await fresh({ kind: 'fleet' }))));
  });

  it('tails the caller’s tenant alone, each event named by position, stream, type and time', async () => {
    const { position } = (await f.h.call('GET', '/v1/console/data', { token: f.tokens.acmeAdmin })).body;
    const tail = readEvents(`${f.h.url}/v1/console/stream?after=${position}`, f.tokens.acmeAdmin, 1);
    await f.report('d1', 'applied', '0190b6c0-0000-7000-8000-0000000000c1');
    const acme = await f.h.call('POST', '/v1/reports', { token: f.tokens.agents['acme/a1'], body: { kind: 'applied', id: '0190b6c0-0000-7000-8000-0000000000c2', device: 'a1', patch: ACME_RELEASE.id } });
    expect(acme.status).toBe(200);
    const [event] = await tail;
    expect(Object.keys(event!.data).sort()).toEqual(['position', 'stream', 'time', 'type']);
    expect(event!.data).toMatchObject({ stream: 'device/a1', position: event!.id });
  });

  it('gives a device as `hotpatch report --device` builds it from the same log, its history as /v1/devices gives it', async () => {
    const r = await f.h.call('GET', '/v1/console/data?device=d1', { token: f.tokens.auditor });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ caller: { role: 'auditor' }, subject: { kind: 'device', id: 'd1' } });
    // What the CLI does for `report --store … --device d1`: the device's stream folded as `history` folds it, the log read whole.
    const view = scopeStore(f.h.store, undefined);
    const history = deviceHistory({ events: await view.readStream(deviceStream('d1')) }, 'd1');
    const cli = await buildReportData({ subject: { kind: 'device', id: 'd1', history }, source: 'hotpatch serve, tenant default', read: async (add) => { for await (const page of readLogPages(view)) page.forEach(add); } });
    expect(r.body.data).toEqual(JSON.parse(JSON.stringify(cli)));
    const device = await f.h.call('GET', '/v1/devices/d1', { token: f.tokens.auditor });
    expect(r.body.data.device.history.map((s: { position: number; after: string }) => [s.position, s.after])).toEqual(device.body.history.map((s: { position: number; after: { state: string } }) => [s.position, s.after.state]));
    expect(r.body.data.device.history.length).toBeGreaterThan(2);
    expect((await f.h.call('GET', '/v1/console/data?device=d1&rollout=HP-2026-02', { token: f.tokens.operator })).status).toBe(400);
  });

  it('answers another tenant’s device exactly as an unknown one, and refuses an agent', async () => {
    const ask = (device: string, token: string) => f.h.call('GET', `/v1/console/data?device=${device}`, { token });
    expect((await ask('a1', f.tokens.acmeAdmin)).body).toMatchObject({ subject: { kind: 'device', id: 'a1' }, data: { device: { id: 'a1', ring: 'pilot' } } });
    const foreign = await ask('d1', f.tokens.acmeAdmin);
    const missing = await ask('zz', f.tokens.acmeAdmin);
    expect(foreign).toMatchObject({ status: 404, body: { code: 'UNKNOWN_DEVICE' } });
    expect(JSON.stringify(foreign.body).replaceAll('d1', 'X')).toBe(JSON.stringify(missing.body).replaceAll('zz', 'X'));
    expect((await ask('a1', f.tokens.operator)).status).toBe(404);
    for (const [tenant, device] of [['default', 'd1'], ['acme', 'a1']]) expect((await ask(device!, f.tokens.agents[`${tenant}/${device}`]!)).status).toBe(403);
  });
});
