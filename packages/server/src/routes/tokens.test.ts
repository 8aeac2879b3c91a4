/** Tokens over HTTP: who may issue and revoke which, the text once, a revoked token refused; nothing written when refused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../testing/harness.js';

describe('POST /v1/tokens, DELETE /v1/tokens/{id}', () => {
  let h: Harness;
  let operator: string;
  let admin: string;
  const logLength = async () => (await h.store.readAll()).length;
  beforeAll(async () => {
    h = await startHarness();
    operator = await h.token('operator');
    admin = await h.token('tenant-admin', { tenant: 'default' });
  });
  afterAll(() => h.close());

  it('an operator issues an agent token, shown once, which then works for its device only', async () => {
    const issued = await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'agent', tenant: 'default', device: 'laptop-1' } });
    expect(issued.status).toBe(201);
    expect(issued.body.token).toMatch(/^hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(issued.body.token.startsWith(`hp_${issued.body.id}_`)).toBe(true);
    expect(JSON.stringify(await h.store.readAll())).not.toContain(issued.body.token.slice(`hp_${issued.body.id}_`.length));
    const read = await h.call('GET', '/v1/devices/laptop-1/instructions', { token: issued.body.token });
    expect(read.status).toBe(404); // not enrolled yet: the token itself was accepted
    expect((await h.call('GET', '/v1/devices/laptop-2/instructions', { token: issued.body.token })).status).toBe(403);
  });

  it('a tenant admin issues agent and auditor tokens of its own tenant only; the scope must fit the role', async () => {
    const before = await logLength();
    expect((await h.call('POST', '/v1/tokens', { token: admin, body: { role: 'operator' } })).status).toBe(403);
    expect((await h.call('POST', '/v1/tokens', { token: admin, body: { role: 'agent', tenant: 'acme', device: 'd' } })).status).toBe(404);
    expect((await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'agent' } })).body.code).toBe('INVALID_TOKEN_SCOPE');
    expect((await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'operator', tenant: 'default' } })).body.code).toBe('INVALID_TOKEN_SCOPE');
    expect((await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'root' } })).status).toBe(400);
    const slash = await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'tenant-admin', tenant: 'a/b' } });
    expect(slash).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
    expect(slash.body.detail).toMatch(/body\.tenant: expected a non-empty name of at most 64 characters, without "\/"/);
    const agentToken = await h.token('agent', { tenant: 'default', device: 'x' });
    expect((await h.call('POST', '/v1/tokens', { token: agentToken, body: { role: 'agent', device: 'x' } })).status).toBe(403);
    expect(await logLength()).toBe(before + 1); // the agent token made above, nothing else
    const defaulted = await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'agent', device: 'laptop-8' } });
    expect((await h.store.readStream(`token/${defaulted.body.id}`))[0]!.data).toMatchObject({ role: 'agent', tenant: 'default', device: 'laptop-8' });
    const issued = await h.call('POST', '/v1/tokens', { token: admin, body: { role: 'agent', device: 'laptop-9' } });
    expect(issued.status).toBe(201);
    const event = (await h.store.readStream(`token/${issued.body.id}`))[0]!;
    expect(event.data).toMatchObject({ role: 'agent', tenant: 'default', device: 'laptop-9' });
  });

  it('revokes: the token is refused from the next request; again changes nothing; a tenant admin cannot revoke an operator token', async () => {
    const issued = (await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'auditor' } })).body;
    expect((await h.call('GET', '/v1/events?limit=1', { token: issued.token })).status).toBe(200);
    const operatorId = operator.split('_')[1]!;
    expect((await h.call('DELETE', `/v1/tokens/${operatorId}`, { token: admin })).status).toBe(404);
    expect((await h.call('DELETE', `/v1/tokens/${issued.id}?reason=left`, { token: operator })).body).toEqual({ revoked: true });
    expect((await h.call('DELETE', `/v1/tokens/${issued.id}`, { token: operator })).body).toEqual({ revoked: false });
    expect((await h.call('GET', '/v1/events?limit=1', { token: issued.token })).status).toBe(401);
    expect((await h.call('DELETE', '/v1/tokens/0123456789abcdef', { token: operator })).status).toBe(404);
    expect((await h.call('DELETE', '/v1/tokens/nope', { token: operator })).status).toBe(400);
    expect((await h.call('GET', '/v1/events?limit=1', { token: operator })).status).toBe(200);
  });

  it('revokes once when revoked by many at once: every caller 200, one {revoked: true}, one TokenRevoked in the log', async () => {
    for (const callers of [2, 8]) {
      const issued = (await h.call('POST', '/v1/tokens', { token: operator, body: { role: 'agent', device: `laptop-${callers}` } })).body;
      const answers = await Promise.all(Array.from({ length: callers }, (_, i) => h.call('DELETE', `/v1/tokens/${issued.id}?reason=r${i}`, { token: i % 2 === 0 ? operator : admin })));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      expect(answers.filter((a) => a.body.revoked === true).length, JSON.stringify(answers.map((a) => a.body))).toBe(1);
      expect((await h.store.readStream(`token/${issued.id}`)).map((e) => e.type)).toEqual(['TokenIssued', 'TokenRevoked']);
    }
  });
});
