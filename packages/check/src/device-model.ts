import { compileEvolve, deviceMachine, RESTING_STATES, type DeviceEventBody, type DeviceState } from '@hotpatch/core';
import type { AnyStateMachine } from 'xstate';
import type { CheckModel } from './explore.js';
import { deviceStateInvariants, deviceTransitionInvariants, invariantContext } from './invariants.js';
import { scenarioEvents, type Scenario } from './scenario.js';

/**
 * The check model of the device lifecycle for a scenario. `machine` defaults to the machine the library runs;
 * tests pass deliberately broken variants of it.
 */
export function deviceCheckModel(scenario: Scenario, machine: AnyStateMachine = deviceMachine): CheckModel<DeviceState, DeviceEventBody> {
  return {
    lifecycle: compileEvolve(machine),
    events: scenarioEvents(scenario),
    stateInvariants: deviceStateInvariants,
    transitionInvariants: deviceTransitionInvariants,
    context: invariantContext(scenario),
    resting: new Set(RESTING_STATES),
  };
}
