/** The ring's pause invariants, exhaustively, and a broken ring machine caught for each. */
import { describe, expect, it } from 'vitest';
import { assign, type AnyStateMachine } from 'xstate';
import { compileEvolve, ringMachine, ringSetup } from '@hotpatch/core';
import { check, ringCheckModel } from './index.js';

function withPaused(on: Record<string, unknown>): AnyStateMachine {
  const config = ringMachine.config as { states: Record<string, { on?: object }> };
  return ringSetup.createMachine({ ...(ringMachine.config as object), states: { ...config.states, paused: { on: { ...config.states.paused!.on, ...on } } } } as never);
}

describe('the ring lifecycle under the checker', () => {
  it('keeps every ring invariant, with no deadlock and full coverage', () => {
    const r = check(ringCheckModel());
    expect(r.stats.complete).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.deadlocks).toEqual([]);
    expect(r.unrecoverable).toEqual([]);
    expect(r.coverage.states.missing).toEqual([]);
    expect(r.coverage.transitions.missing).toEqual([]);
    expect(r.coverage.transitions.total).toBe(compileEvolve(ringMachine).transitions.length);
  });

  it('catches a machine where any resume opens the ring', () => {
    const r = check(ringCheckModel(withPaused({ RingResumed: { target: 'open', actions: 'lift' } })), { continueOnViolation: true });
    expect(r.violations.map((v) => v.invariant).sort()).toEqual(['pausedWhileHeld', 'tenantPauseNotLiftedByService']);
    const v = r.violations.find((x) => x.invariant === 'tenantPauseNotLiftedByService')!;
    expect(v.path.map((s) => `${s.event.type} ${s.event.data.by}`)).toEqual(['RingPaused tenant', 'RingResumed service']);
  });

  it('catches a machine where a party’s resume lifts every pause', () => {
    const r = check(ringCheckModel(withPaused({ RingResumed: [{ guard: 'holdsPause', target: 'open', actions: assign({ holds: [] }) }] })), { continueOnViolation: true });
    expect(r.violations.map((v) => v.invariant).sort()).toEqual(['resumeLiftsOnlyOwnPause', 'tenantPauseNotLiftedByService']);
    const v = r.violations.find((x) => x.invariant === 'resumeLiftsOnlyOwnPause')!;
    expect(v.path).toHaveLength(3);
  });
});
