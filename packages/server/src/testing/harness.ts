/** A real service on loopback for the tests: a SQLite file of its own, port 0, fetch. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenRole } from '@hotpatch/core';
import { simulatedClock, type SimulatedClock } from '@hotpatch/fleet';
import type { EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../server.js';
import { issueToken } from '../tokens.js';

export interface Harness {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly store: EventStore;
  readonly clock: SimulatedClock;
  readonly dir: string;
  token(role: TokenRole, scope?: { tenant?: string; device?: string }): Promise<string>;
  /** fetch on the service with a token (or none) and a JSON body. */
  call(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; type: string; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export const PROFILE = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false } as const;

export async function startHarness(options: Partial<ServerOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-server-'));
  const store = options.store ?? openSqliteEventStore({ path: join(dir, 'hotpatch.db'), durability: 'normal' });
  const clock = simulatedClock('2026-01-13T18:00:00.000Z');
  const app = await buildServer({ logger: false, tickIntervalMs: 0, clock, ...options, store });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const call: Harness['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}), ...(o.body !== undefined || o.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers };
    const response = await fetch(address + path, { method, headers, ...(o.raw !== undefined ? { body: o.raw } : o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, type, body: type.includes('json') && text !== '' ? JSON.parse(text) : text, headers: response.headers };
  };
  return {
    app,
    url: address,
    store,
    clock,
    dir,
    token: async (role, scope = {}) => (await issueToken(store, { role, ...scope })).token,
    call,
    close: async () => {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The hotpatch most tests plan. */
export const RELEASE = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true } as const;

/**
 * Where most tests start: `devices` enrolled in the pilot ring by their agents (a token each), RELEASE planned by an
 * operator and a tick made, so each device is instructed.
 */
export async function pilotRollout(h: Harness, devices: readonly string[] = ['d1']): Promise<{ operator: string; agents: Map<string, string> }> {
  const operator = await h.token('operator');
  const agents = new Map<string, string>();
  for (const device of devices) {
    const agent = await h.token('agent', { tenant: 'default', device });
    agents.set(device, agent);
    const enrolled = await h.call('PUT', `/v1/devices/${device}`, { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } });
    if (enrolled.status !== 201) throw new Error(`enrolling ${device}: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
  }
  const planned = await h.call('POST', '/v1/rollouts', { token: operator, body: RELEASE });
  if (planned.status !== 201) throw new Error(`planning ${RELEASE.id}: ${planned.status} ${JSON.stringify(planned.body)}`);
  await h.app.hotpatch.tickOnce();
  return { operator, agents };
}
