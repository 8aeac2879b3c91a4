/**
 * The network agents as many devices, over real HTTP: a service that holds every long-poll open (here a stand-in
 * that answers the calls the agents make). Each call passed the one stop signal to fetch, which lets go of its listener
 * only when the request is garbage-collected: past 1,500 calls in flight or retried (1,600 devices waiting, or 200
 * retrying a service killed), Node printed a MaxListenersExceededWarning per call on the user's terminal.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
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
});
