import { fc, test } from '@fast-check/vitest';
import { createActor, setup, assign, and } from 'xstate';
import { describe, expect, it } from 'vitest';
import { compileEvolve, UnsupportedMachineError } from './evolve.js';
import { deviceMachine } from './device/machine.js';
import { deviceLifecycle } from './device/lifecycle.js';
import { TransitionRefusedError } from './errors.js';
import type { DeviceState } from './device/context.js';
import type { DeviceEventBody } from './device/events.js';
import { guidedSequence } from './testing/index.js';

/** One inert actor scope reused for every call, as xstate's own createInertActorScope builds it. */
function inertScope() {
  const self = createActor(deviceMachine);
  return { self, defer: () => {}, id: '', logger: () => {}, sessionId: '', stopChild: () => {}, system: self.system, emit: () => {}, actionExecutor: () => {} };
}

describe('evolve compiled from the machine', () => {
  const scope = inertScope();

  // The equivalence the whole replay path rests on: the compiled fold and xstate agree on every step, on 1,000
  // random sequences that mostly follow the lifecycle and mix in events it refuses.
  test.prop([guidedSequence], { numRuns: 1000, seed: 20261124 })('gives exactly what the xstate machine gives, state by state', (events) => {
    let snapshot = deviceMachine.getInitialSnapshot(scope as never);
    let state = deviceLifecycle.initial as DeviceState;
    expect({ value: snapshot.value, context: snapshot.context }).toEqual(state);
    for (const event of events) {
      const before = { value: snapshot.value, context: snapshot.context };
      snapshot = deviceMachine.transition(snapshot, event, scope as never);
      const step = deviceLifecycle.step(state, event);
      if (step === undefined) {
        // Refused by evolve: xstate must ignore it too, leaving the state exactly as it was.
        expect({ value: snapshot.value, context: snapshot.context }).toEqual(before);
        expect(() => deviceLifecycle.evolve(state, event)).toThrow(TransitionRefusedError);
      } else {
        state = step.state as DeviceState;
        expect({ value: snapshot.value, context: snapshot.context }).toEqual(state);
      }
    }
  });

  it('compiles every state and transition of the machine', () => {
    const stateKeys = Object.keys(deviceMachine.root.states);
    expect(deviceLifecycle.states).toEqual(stateKeys);
    let configured = 0;
    for (const key of stateKeys) for (const defs of deviceMachine.root.states[key]!.transitions.values()) configured += defs.length;
    expect(deviceLifecycle.transitions.length).toBe(configured);
    expect([...deviceLifecycle.finalStates]).toEqual(['retired']);
  });

  it('names the state, the event, the refusing rule and the accepted events in a refusal', () => {
    const enrolled = deviceLifecycle.evolve(deviceLifecycle.initial, {
      type: 'DeviceEnrolled',
      data: { edition: 'Enterprise E3', build: '26100.1', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B1' },
    });
    const current = deviceLifecycle.evolve(enrolled, { type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } });
    const refusal = (() => {
      try {
        deviceLifecycle.evolve(current, { type: 'PatchStaged', data: { patch: 'P1', baseline: 'B2', requires: [], liveRevert: true } }, { stream: 'device/d1', version: 3, line: 7 });
      } catch (error) {
        return error as TransitionRefusedError;
      }
      throw new Error('not refused');
    })();
    expect(refusal).toBeInstanceOf(TransitionRefusedError);
    expect(refusal.state).toBe('current');
    expect(refusal.eventType).toBe('PatchStaged');
    expect(refusal.rule).toBe('onPatchBaseline');
    expect(refusal.accepted).toEqual(['PatchStaged', 'EligibilityAssessed', 'RebootRequired', 'DeviceRetired']);
    expect(refusal.message).toMatch(/^line 7 device\/d1@3: PatchStaged refused in state 'current' by rule 'onPatchBaseline'/);
  });

  it('refuses an event type the state has no transition for, without naming a rule', () => {
    const error = (() => {
      try {
        deviceLifecycle.evolve(deviceLifecycle.initial, { type: 'PatchApplied', data: { patch: 'P1' } } as DeviceEventBody);
      } catch (e) {
        return e as TransitionRefusedError;
      }
    })();
    expect(error?.rule).toBeUndefined();
    expect(error?.accepted).toEqual(['DeviceEnrolled']);
  });

  it('refuses to compile what it cannot replay faithfully', () => {
    const base = setup({ types: { context: {} as { n: number }, events: {} as { type: 'go' } }, guards: { yes: () => true }, actions: { bump: assign({ n: ({ context }) => context.n + 1 }), log: () => {} } });
    const nested = base.createMachine({ initial: 'a', context: { n: 0 }, states: { a: { initial: 'x', states: { x: {} } } } });
    const entry = base.createMachine({ initial: 'a', context: { n: 0 }, states: { a: { entry: 'bump' } } });
    const sideEffect = base.createMachine({ initial: 'a', context: { n: 0 }, states: { a: { on: { go: { actions: 'log' } } } } });
    const builtinGuard = base.createMachine({ initial: 'a', context: { n: 0 }, states: { a: { on: { go: { guard: and(['yes', 'yes']), target: 'a' } } } } });
    for (const machine of [nested, entry, sideEffect, builtinGuard]) expect(() => compileEvolve(machine)).toThrow(UnsupportedMachineError);
    const fine = base.createMachine({ initial: 'a', context: { n: 0 }, states: { a: { on: { go: { guard: 'yes', actions: 'bump' } } } } });
    const compiled = compileEvolve<'a', { n: number }, { type: 'go' }>(fine);
    expect(compiled.evolve(compiled.evolve(compiled.initial, { type: 'go' }), { type: 'go' }).context.n).toBe(2);
  });
});
