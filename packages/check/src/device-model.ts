import { compileEvolve, deviceMachine, RESTING_STATES, type DeviceEventBody, type DeviceState } from '@hotpatch/core';
import type { AnyStateMachine } from 'xstate';
import { deviceInvariant, type CustomInvariant } from './custom-invariants.js';
import type { CheckModel } from './explore.js';
import { deviceStateInvariants, deviceTransitionInvariants, invariantContext } from './invariants.js';
import { scenarioEvents, type Scenario } from './scenario.js';

/**
 * The check model of the device lifecycle for a scenario: the built-in invariants, the scenario's own and `extra`
 * ones (an invariants file's, checked by checkDeviceInvariants). `machine` defaults to the machine the library runs;
 * tests pass deliberately broken variants of it.
 */
export function deviceCheckModel(scenario: Scenario, machine: AnyStateMachine = deviceMachine, extra: readonly CustomInvariant[] = []): CheckModel<DeviceState, DeviceEventBody> {
  return {
    lifecycle: compileEvolve(machine),
    events: scenarioEvents(scenario),
    stateInvariants: [...deviceStateInvariants, ...[...(scenario.invariants ?? []), ...extra].map(deviceInvariant)],
    transitionInvariants: deviceTransitionInvariants,
    context: invariantContext(scenario),
    resting: new Set(RESTING_STATES),
  };
}
