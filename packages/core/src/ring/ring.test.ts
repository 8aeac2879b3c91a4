import { fc, test } from '@fast-check/vitest';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { TransitionRefusedError } from '../errors.js';
import { lifecycleFor, streamKindOf } from '../streams.js';
import { validateEvent } from '../validate.js';
import type { RingEventBody, RingState } from './events.js';
import { ringLifecycle } from './lifecycle.js';
import { ringMachine } from './machine.js';

const pause = (by: 'service' | 'tenant', reason = 'change freeze'): RingEventBody => ({ type: 'RingPaused', data: { by, reason } });
const resume = (by: 'service' | 'tenant'): RingEventBody => ({ type: 'RingResumed', data: { by } });
const fold = (...events: RingEventBody[]) => events.reduce<RingState>((s, e) => ringLifecycle.evolve(s, e) as RingState, ringLifecycle.initial as RingState);

describe('the ring lifecycle', () => {
  it('is open with no events, paused while any party holds it, open again when the last hold is lifted', () => {
    expect(fold().value).toBe('open');
    expect(fold(pause('tenant'))).toEqual({ value: 'paused', context: { holds: [{ by: 'tenant', reason: 'change freeze' }] } });
    const both = fold(pause('tenant'), pause('service', 'incident'));
    expect(both.context.holds.map((h) => h.by)).toEqual(['service', 'tenant']);
    expect(ringLifecycle.evolve(both, resume('service')).value).toBe('paused');
    expect(fold(pause('tenant'), pause('service', 'incident'), resume('service'), resume('tenant')).value).toBe('open');
    // Pausing again keeps one hold per party, with its latest reason.
    expect(fold(pause('tenant', 'a'), pause('tenant', 'b')).context.holds).toEqual([{ by: 'tenant', reason: 'b' }]);
  });

  it('refuses the service lifting the tenant’s pause, naming the rule; and a resume of an open ring', () => {
    const tenant = fold(pause('tenant'));
    let refusal: unknown;
    try {
      ringLifecycle.evolve(tenant, resume('service'), { stream: 'ring/broad', version: 2 });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(TransitionRefusedError);
    expect((refusal as Error).message).toMatch(/holdsPause/);
    expect((refusal as Error).message).toMatch(/ring\/broad/);
    expect(() => ringLifecycle.evolve(ringLifecycle.initial, resume('tenant'))).toThrow(TransitionRefusedError);
  });

  it('is a stream kind of its own: ring/<name>, its events validated at the boundary', () => {
    expect(streamKindOf('ring/broad')?.name).toBe('ring');
    expect(lifecycleFor('ring/broad')).toBe(ringLifecycle);
    const event = { id: '0190b6c0-0000-7000-8000-000000000001', stream: 'ring/broad', version: 1, type: 'RingPaused', time: '2026-03-02T10:00:00.000Z', data: { by: 'tenant', reason: 'quarter end' } };
    expect(validateEvent(event).type).toBe('RingPaused');
    expect(() => validateEvent({ ...event, data: { by: 'someone', reason: 'x' } })).toThrow(/by/);
    expect(() => validateEvent({ ...event, type: 'RolloutPaused' })).toThrow(/unknown ring event type/);
  });

  // The compiled lifecycle and xstate agree step by step on random sequences of pauses and resumes.
  const scope = (() => {
    const self = createActor(ringMachine);
    return { self, defer: () => {}, id: '', logger: () => {}, sessionId: '', stopChild: () => {}, system: self.system, emit: () => {}, actionExecutor: () => {} };
  })();
  const party = fc.constantFrom<'service' | 'tenant'>('service', 'tenant');
  const event = fc.oneof(party.map((by) => pause(by, `by ${by}`)), party.map(resume));
  test.prop([fc.array(event, { maxLength: 12 })], { numRuns: 300, seed: 20261126 })('evolve gives what the xstate machine gives; the tenant’s hold is only ever lifted by the tenant', (events) => {
    let snapshot = ringMachine.getInitialSnapshot(scope as never);
    let state = ringLifecycle.initial as RingState;
    for (const e of events) {
      const before = state;
      snapshot = ringMachine.transition(snapshot, e, scope as never);
      const next = ringLifecycle.next(state, e) as RingState | undefined;
      if (next === undefined) expect({ value: snapshot.value, context: snapshot.context }).toEqual(before);
      else state = next;
      expect({ value: snapshot.value, context: snapshot.context }).toEqual(state);
      // Invariants: paused exactly while someone holds it; a tenant hold disappears only on the tenant's resume.
      expect(state.value === 'paused').toBe(state.context.holds.length > 0);
      const tenantHeld = before.context.holds.some((h) => h.by === 'tenant');
      if (tenantHeld && !state.context.holds.some((h) => h.by === 'tenant')) expect(e).toEqual(resume('tenant'));
    }
  });
});
