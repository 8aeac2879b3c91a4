/** The rollout invariants on three devices, and a broken rollout machine caught for each. */
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { compileEvolve, rolloutGuards, rolloutMachine, rolloutSetup } from '@hotpatch/core';
import { check, DEFAULT_ROLLOUT_SCENARIO, formatPath, rolloutCheckModel } from './index.js';

function withStates(changes: Record<string, object>): AnyStateMachine {
  const config = rolloutMachine.config as { states: Record<string, object> };
  return rolloutSetup.createMachine({ ...(rolloutMachine.config as object), states: { ...config.states, ...changes } } as never);
}
const on = (state: string) => (rolloutMachine.config as { states: Record<string, { on?: Record<string, unknown> }> }).states[state]!.on ?? {};

describe('the rollout lifecycle under the checker (3 devices: 1 pilot, 2 broad)', () => {
  it('keeps every rollout invariant, with no deadlock and full coverage', () => {
    const r = check(rolloutCheckModel());
    expect(r.stats.complete).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.deadlocks).toEqual([]);
    expect(r.unrecoverable).toEqual([]);
    expect(r.coverage.states.missing).toEqual([]);
    expect(r.coverage.transitions.missing).toEqual([]);
    expect(r.coverage.transitions.total).toBe(compileEvolve(rolloutMachine).transitions.length);
  });

  const broken: Record<string, { invariant: string; machine: AnyStateMachine }> = {
    'a ring that starts whatever the gate said': {
      invariant: 'noRingBeforeGate',
      // (its deferral still checked: each broken machine breaks the one rule it is about)
      machine: withStates({ rolling: { on: { ...on('rolling'), RingStarted: { guard: (args: never) => rolloutGuards.deferralElapsed(args), target: 'rolling', actions: 'startRing' } } } }),
    },
    'instructions accepted while paused': {
      invariant: 'pausedOrHaltedInstructsNothing',
      machine: withStates({ paused: { on: { ...on('paused'), DeviceInstructed: { actions: 'instruct' } } } }),
    },
    'no automatic halt on the budget': {
      invariant: 'failuresWithinBudget',
      machine: withStates({ rolling: { on: { ...on('rolling'), DeviceFailed: { guard: 'ringHasDeviceInFlight', actions: 'fail' } } } }),
    },
    'a ring that starts whenever the ring before passed its gate': {
      invariant: 'noRingBeforeDeferral',
      machine: withStates({ betweenRings: { on: { ...on('betweenRings'), RingStarted: { guard: (args: never) => rolloutGuards.isNextRing(args), target: 'rolling', actions: 'startRing' } } } }),
    },
    'a halted rollout that counts a device set aside without taking it out of flight': {
      invariant: 'haltAccountsForItsRing',
      machine: withStates({ halted: { on: { ...on('halted'), DeviceSetAside: { guard: 'setAsideInFlight', actions: 'setAsideUninstructed' } } } }),
    },
    'a resume that lifts every pause': {
      invariant: 'tenantPauseNotLiftedByService',
      machine: withStates({ paused: { on: { ...on('paused'), RolloutResumed: { guard: 'pausedByThisParty', target: 'rolling', actions: 'resume' } } } }),
    },
  };
  it('keeps them for an out-of-band release, whose broad ring is past its deferral and may start at once', () => {
    // Released ten days after its Patch Tuesday: the broad ring's 7-day deferral has passed; it opens at the release.
    const scenario = { ...DEFAULT_ROLLOUT_SCENARIO, name: 'out-of-band', releasedAt: '2026-02-20T17:00:00.000Z', deferralsFrom: '2026-02-10T17:00:00.000Z' };
    const r = check(rolloutCheckModel(scenario));
    expect(r.stats.complete).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.deadlocks).toEqual([]);
    expect(r.coverage.transitions.missing).toEqual([]);
  });

  for (const [what, b] of Object.entries(broken)) {
    it(`catches ${b.invariant}: ${what}`, () => {
      const r = check(rolloutCheckModel(DEFAULT_ROLLOUT_SCENARIO, b.machine));
      const v = r.violations.find((x) => x.invariant === b.invariant);
      expect(v, r.violations.map((x) => x.invariant).join(', ')).toBeDefined();
      expect(formatPath(v!.initial, v!.path)).toMatch(/1\. RolloutPlanned/);
      // Shortest: replaying one step less does not reach the violation.
      const shorter = check(rolloutCheckModel(DEFAULT_ROLLOUT_SCENARIO, b.machine), { maxDepth: v!.path.length - 1 });
      expect(shorter.violations.find((x) => x.invariant === b.invariant)).toBeUndefined();
    });
  }
});
