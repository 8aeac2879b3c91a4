/**
 * The network agents as many devices, over real HTTP: a service that holds every long-poll open (here a stand-in
 * that answers the calls the agents make). Each call passed the one stop signal to fetch, which lets go of its listener
 * only when the request is garbage-collected: past 1,500 calls in flight or retried (1,600 devices waiting, or 200
 * retrying a service killed), Node printed a MaxListenersExceededWarning per call on the user's terminal.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_FAULTS, type Faults } from '../faults.js';
import { runNetworkAgents } from './agents.js';

const warnings: string[] = [];
const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

describe('network agents, many at once', () => {
  it('wait on 1,600 long-polls, stop, and leave no listener warning', async () => {
    process.on('warning', onWarning);
    const held = new Set<ServerResponse>();
    let polls = 0;
    const server = createServer((request, response) => {
      const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (request.url === '/healthz') return json(200, { status: 'ok', time: '2030-01-01T00:00:00.000Z' });
      if (request.url === '/v1/tokens') return json(201, { token: `hp_0000000000000000_${'a'.repeat(43)}` });
      if (request.method === 'PUT') return json(201, {});
      polls++;
      held.add(response);
      response.on('close', () => held.delete(response));
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const stop = new AbortController();
    try {
      const run = runNetworkAgents({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'hp_op', devices: 1_600, seed: 1, signal: stop.signal });
      const deadline = Date.now() + 30_000;
      while (polls < 1_600 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
      expect(polls).toBe(1_600);
      stop.abort();
      expect((await run).enrolled).toBe(1_600);
      await new Promise((ok) => setImmediate(ok));
      expect(warnings).toEqual([]);
    } finally {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
  }, 60_000);

  it('a report the service does not take while it is away (503, refused) is sent again until it is back, not lost', async () => {
    // A service restarted (killed, started again on its store) is away longer than a call's retries (8 attempts,
    // about 11 s): the agents' long-polls carried on, but a report due then was counted lost, and its device, which
    // had done what it was asked, was timed out by the service as if it had not.
    const none = Object.fromEntries(Object.entries(DEFAULT_FAULTS).map(([k, v]) => [k, typeof v === 'number' ? 0 : v])) as unknown as Faults;
    const away = Date.now() + 1_500;
    const reports: string[] = [];
    let instructed = false;
    const server = createServer((request, response) => {
      const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (request.url === '/healthz') return json(200, { status: 'ok', time: '2030-01-01T00:00:00.000Z' });
      if (request.url === '/v1/tokens') return json(201, { token: `hp_0000000000000000_${'a'.repeat(43)}` });
      if (request.method === 'PUT') return json(201, {});
      if (request.url === '/v1/reports') {
        if (Date.now() < away) return json(503, { detail: 'the store is away' });
        let body = '';
        request.on('data', (d) => (body += d));
        request.on('end', () => (reports.push((JSON.parse(body) as { kind: string }).kind), json(200, { status: 'recorded' })));
        return;
      }
      if (!instructed) {
        instructed = true;
        return json(200, { device: 'dev-00001', version: 3, state: 'needsReboot', baseline: 'B-2030-01', reason: 'eligibility' });
      }
      setTimeout(() => json(204, null), 200).unref();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const stop = new AbortController();
    try {
      // Stopped once the agent has its answer (the stand-in saw the report before its answer reached the agent: a stop
      // in between counted a report in flight as lost, under load).
      let answered = 0;
      const onProgress = (progress: { reports: Record<string, number> }) => (answered = Object.values(progress.reports).reduce((a, b) => a + b, 0));
      const run = runNetworkAgents({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'hp_op', devices: 1, seed: 1, speed: 1_000_000, faults: none, attempts: 2, signal: stop.signal, onProgress });
      const deadline = Date.now() + 20_000;
      while (answered === 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
      stop.abort();
      const done = await run;
      expect({ reports, lost: done.reports.lost, recorded: done.reports.recorded }).toEqual({ reports: ['baseline-installed'], lost: 0, recorded: 1 });
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
  }, 30_000);
});
