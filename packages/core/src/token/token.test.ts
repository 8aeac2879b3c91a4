import { fc, test } from '@fast-check/vitest';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { TransitionRefusedError } from '../errors.js';
import { lifecycleFor, streamKindOf } from '../streams.js';
import { tokenStream } from '../stream-name.js';
import { validateEvent } from '../validate.js';
import { TOKEN_ROLES, type TokenEventBody, type TokenRole, type TokenState } from './events.js';
import { tokenLifecycle } from './lifecycle.js';
import { tokenMachine } from './machine.js';

const hash = 'ab'.repeat(32);
const issued = (role: TokenRole, scope: { tenant?: string; device?: string } = {}): TokenEventBody => ({ type: 'TokenIssued', data: { role, hash, ...scope } });
const revoked: TokenEventBody = { type: 'TokenRevoked', data: { reason: 'lost laptop' } };
const fold = (...events: TokenEventBody[]) => events.reduce<TokenState>((s, e) => tokenLifecycle.evolve(s, e) as TokenState, tokenLifecycle.initial as TokenState);

describe('the token lifecycle', () => {
  it('is none with no events, issued with its scope, revoked for good', () => {
    expect(fold().value).toBe('none');
    expect(fold(issued('agent', { tenant: 'default', device: 'd1' }))).toEqual({ value: 'issued', context: { role: 'agent', tenant: 'default', device: 'd1', hash } });
    expect(fold(issued('operator'), revoked).value).toBe('revoked');
    expect(() => fold(issued('operator'), revoked, revoked)).toThrow(TransitionRefusedError);
    expect(() => fold(issued('operator'), issued('operator'))).toThrow(TransitionRefusedError);
    expect(() => fold(revoked)).toThrow(TransitionRefusedError);
  });

  it('refuses a scope that does not fit the role, naming the rule', () => {
    const refused = [
      issued('agent', { tenant: 'default' }),
      issued('agent', { device: 'd1' }),
      issued('tenant-admin'),
      issued('tenant-admin', { tenant: 't', device: 'd1' }),
      issued('operator', { tenant: 't' }),
      issued('auditor', { device: 'd1' }),
    ];
    for (const e of refused) expect(() => tokenLifecycle.evolve(tokenLifecycle.initial, e, { stream: 'token/x', version: 0 })).toThrow(/scopeFitsRole/);
    for (const e of [issued('auditor'), issued('auditor', { tenant: 't' }), issued('tenant-admin', { tenant: 't' })]) expect(fold(e).value).toBe('issued');
  });

  it('is a stream kind of its own, its events checked by their schemas', () => {
    expect(streamKindOf(tokenStream('k1'))?.name).toBe('token');
    expect(lifecycleFor('token/k1')).toBe(streamKindOf('token/k1')!.lifecycle);
    const event = { id: '00000000-0000-4000-8000-000000000001', stream: 'token/k1', version: 1, time: '2026-01-01T00:00:00Z', ...issued('operator') };
    expect(() => validateEvent(event)).not.toThrow();
    expect(() => validateEvent({ ...event, data: { role: 'operator', hash: 'secret' } })).toThrow(/hash/);
    expect(() => validateEvent({ ...event, data: { role: 'root', hash } })).toThrow(/role/);
    // A tenant the service could never serve (its streams could not be named) is refused when the token is issued.
    for (const tenant of ['a/b', '', 'x'.repeat(65), 'a\u202eb']) expect(() => validateEvent({ ...event, data: { role: 'tenant-admin', tenant, hash } })).toThrow(/data.tenant/);
    expect(() => validateEvent({ ...event, data: { role: 'tenant-admin', tenant: 'default', hash } })).not.toThrow();
  });

  const anyEvent = fc.oneof(
    fc.record({ role: fc.constantFrom(...TOKEN_ROLES), tenant: fc.option(fc.constant('t'), { nil: undefined }), device: fc.option(fc.constant('d'), { nil: undefined }) }).map(({ role, tenant, device }) =>
      issued(role, { ...(tenant !== undefined ? { tenant } : {}), ...(device !== undefined ? { device } : {}) }),
    ),
    fc.constant(revoked),
  );
  // The compiled lifecycle and xstate agree step by step on random sequences; a revoked token stays revoked.
  const scope = (() => {
    const self = createActor(tokenMachine);
    return { self, defer: () => {}, id: '', logger: () => {}, sessionId: '', stopChild: () => {}, system: self.system, emit: () => {}, actionExecutor: () => {} };
  })();
  test.prop([fc.array(anyEvent, { maxLength: 6 })], { numRuns: 300, seed: 22 })('evolve gives what the xstate machine gives, and a revoked token stays revoked', (events) => {
    let snapshot = tokenMachine.getInitialSnapshot(scope as never);
    let state = tokenLifecycle.initial as TokenState;
    for (const e of events) {
      const before = state;
      snapshot = tokenMachine.transition(snapshot, e, scope as never);
      const next = tokenLifecycle.next(state, e) as TokenState | undefined;
      if (next === undefined) expect({ value: snapshot.value, context: snapshot.context }).toEqual(before);
      else state = next;
      expect({ value: snapshot.value, context: snapshot.context }).toEqual(state);
      if (before.value === 'revoked') expect(state).toBe(before);
    }
  });
});
