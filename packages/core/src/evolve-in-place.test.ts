import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { AnyLifecycle } from './streams.js';
import { DEVICE_STREAMS, ROLLOUT_STREAMS, STREAM_KINDS, streamKindOf } from './streams.js';
import { anyEvent, guidedSequence } from './testing/index.js';

/**
 * `own` and `nextInPlace` (what replay's fold runs on every event) against `next`, the pure fold: the same answer
 * (accepted or not) and the same state at every step; a refused event leaves the state as it was; nothing but the
 * fold's own copy is ever written (the lifecycle's initial state, and every state `next` gave, stay as they were).
 */
function compare(lifecycle: AnyLifecycle, events: ReadonlyArray<{ readonly type: string }>): number {
  const initial = structuredClone(lifecycle.initial);
  const given: Array<[object, unknown]> = [];
  let pure = lifecycle.initial;
  let owned: ReturnType<AnyLifecycle['own']> | undefined;
  let accepted = 0;
  for (const event of events) {
    const next = lifecycle.next(pure, event);
    let took: boolean;
    if (owned === undefined) {
      const first = lifecycle.next(lifecycle.initial, event);
      took = first !== undefined;
      if (first !== undefined) owned = lifecycle.own(first);
    } else {
      const before = structuredClone(owned);
      took = lifecycle.nextInPlace(owned, event);
      if (!took) expect(owned).toEqual(before);
    }
    expect(took).toBe(next !== undefined);
    if (next !== undefined) {
      accepted++;
      pure = next;
      given.push([next, structuredClone(next)]);
    }
    if (owned !== undefined) expect({ value: owned.value, context: owned.context }).toEqual({ value: pure.value, context: pure.context });
  }
  expect(lifecycle.initial).toEqual(initial);
  for (const [state, copy] of given) expect(state).toEqual(copy);
  return accepted;
}

/** A rollout's events over two rings and two devices, small budgets: plans, turns, outcomes past the budget (two updates). */
const rolloutBody = (() => {
  const ring = fc.constantFrom('pilot', 'broad');
  const device = fc.constantFrom('d1', 'd2');
  const at = fc.constant('2026-01-05T08:00:00.000Z');
  const policy = (name: string) =>
    fc.record({ name: fc.constant(name), deferralDays: fc.constant(0), budget: fc.record({ count: fc.integer({ min: 0, max: 2 }) }), gate: fc.constant({ minVerifiedShare: 0, maxFailureRate: 1, minSoakHours: 0 }), deadlineDays: fc.constant(30) });
  return fc.oneof(
    fc.tuple(policy('pilot'), policy('broad')).map((rings) => ({ type: 'RolloutPlanned', data: { release: 'HP-1', releaseKind: 'hotpatch', releasedAt: '2026-01-01T00:00:00.000Z', liveRevert: true, outOfBand: false, rings } })),
    fc.record({ ring, at, devices: fc.integer({ min: 1, max: 4 }) }).map((data) => ({ type: 'RingStarted', data })),
    fc.record({ ring, device, action: fc.constant('hotpatch') }).map((data) => ({ type: 'DeviceInstructed', data })),
    fc.record({ ring, device }).map((data) => ({ type: 'DeviceSucceeded', data })),
    fc.record({ ring, device, reason: fc.constant('apply-failed') }).map((data) => ({ type: 'DeviceFailed', data })),
    fc.record({ ring, device, reason: fc.constant('quiet'), instructed: fc.boolean() }).map((data) => ({ type: 'DeviceSetAside', data })),
    fc.record({ ring, at }).map((data) => ({ type: 'GatePassed', data })),
    fc.record({ by: fc.constantFrom('service', 'tenant'), reason: fc.constant('why') }).map((data) => ({ type: 'RolloutPaused', data })),
    fc.constantFrom('service', 'tenant').map((by) => ({ type: 'RolloutResumed', data: { by } })),
  );
})();

/** Rollout events, each step the first of four candidates the rollout accepts (else the first): it goes deep. */
const rolloutSequence = fc.array(fc.array(rolloutBody, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 60 }).map((steps) => {
  const lifecycle = ROLLOUT_STREAMS.lifecycle;
  let state = lifecycle.initial;
  return steps.map((candidates) => {
    const event = candidates.find((e) => lifecycle.next(state, e) !== undefined) ?? candidates[0]!;
    state = lifecycle.next(state, event) ?? state;
    return event;
  });
});

describe('a fold that owns its states (own, nextInPlace)', () => {
  test.prop([guidedSequence], { numRuns: 500, seed: 20261206 })('device: the state next gives, at every event', (events) => {
    compare(DEVICE_STREAMS.lifecycle, events);
  });

  test.prop([rolloutSequence], { numRuns: 500, seed: 20261206 })('rollout: the state next gives, at every event', (events) => {
    compare(ROLLOUT_STREAMS.lifecycle, events);
  });

  test.prop([fc.array(anyEvent, { minLength: 1, maxLength: 40 })], { numRuns: 300, seed: 20261206 })('every kind, random events (mostly refused): the same answers', (events) => {
    for (const kind of STREAM_KINDS) compare(kind.lifecycle, events.filter((e) => streamKindOf(e.stream) === kind));
  });

  test('the rollout sequences reach the transitions with two updates (a failure past the budget)', () => {
    const runs = fc.sample(rolloutSequence, { numRuns: 500, seed: 20261206 });
    const two = ROLLOUT_STREAMS.lifecycle.transitions.filter((t) => t.updates.length > 1);
    expect(two.length).toBeGreaterThan(0);
    let reached = 0;
    for (const events of runs) {
      let state = ROLLOUT_STREAMS.lifecycle.initial;
      for (const event of events) {
        const step = ROLLOUT_STREAMS.lifecycle.step(state, event);
        if (step === undefined) continue;
        if (two.includes(step.transition)) reached++;
        state = step.state;
      }
    }
    expect(reached).toBeGreaterThan(0);
  });
});
