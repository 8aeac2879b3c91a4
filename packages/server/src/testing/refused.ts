/** The check every bad-input test makes: the status, a problem naming it, nothing written, the service serving on. */
import { expect } from 'vitest';
import type { Harness } from './harness.js';

type Answer = { status: number; type: string; body: any };

/** The log's last position: unchanged by a refused request. */
export const logHead = async (h: Harness): Promise<number> => (await h.store.readAll({ fromPosition: 1, limit: 100_000 })).at(-1)?.position ?? 0;

/** A checker of refusals on the harness `h()` gives (made in a beforeAll); each returns the problem. */
export const refusedOn =
  (h: () => Harness) =>
  async (request: Promise<Answer>, status: number, code: string | RegExp, detail?: RegExp): Promise<any> => {
    const before = await logHead(h());
    const r = await request;
    expect({ status: r.status, type: r.type }).toEqual({ status, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(r.body).toMatchObject({ status, type: expect.stringMatching(/^urn:hotpatch:problem:/), title: expect.any(String), detail: expect.any(String), instance: expect.stringMatching(/^\//) });
    expect(r.body.code).toMatch(code);
    if (detail) expect(r.body.detail).toMatch(detail);
    expect(await logHead(h())).toBe(before);
    expect((await h().call('GET', '/healthz')).status).toBe(200);
    return r.body;
  };
