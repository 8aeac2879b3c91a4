/**
 * The rollout lifecycle (stream `rollout/<id>`), an xstate v5 machine like the device lifecycle, on the same log:
 * flat states, named guards, assign actions only, so that evolve, the stores, replay and the model checker take
 * it as they take the device machine.
 */
import { assign, setup } from 'xstate';
import * as update from './actions.js';
import { initialRolloutContext, type RolloutContext } from './context.js';
import type { RolloutEventBody } from './events.js';
import * as rules from './guards.js';

type AnyGuard = (args: rules.RolloutGuardArgs) => boolean;
const g = (fn: unknown): AnyGuard => fn as AnyGuard;
const a = (fn: unknown) => assign<RolloutContext, RolloutEventBody, undefined, RolloutEventBody, never>(fn as (args: update.RolloutUpdateArgs) => Partial<RolloutContext>);

export const rolloutSetup = setup({
  types: { context: {} as RolloutContext, events: {} as RolloutEventBody },
  guards: {
    canStartRing: g(rules.canStartRing),
    instructsCurrentRing: g(rules.instructsCurrentRing),
    ringHasDeviceInFlight: g(rules.ringHasDeviceInFlight),
    setAsideInFlight: g(rules.setAsideInFlight),
    setAsideBeforeInstruction: g(rules.setAsideBeforeInstruction),
    failurePastBudget: g(rules.failurePastBudget),
    gateMet: g(rules.gateMet),
    gateMetOnLastRing: g(rules.gateMetOnLastRing),
    pausedByThisParty: g(rules.pausedByThisParty),
    resumesIntoRolling: g(rules.resumesIntoRolling),
    resumesBetweenRings: g(rules.resumesBetweenRings),
  },
  actions: {
    plan: a(update.plan),
    startRing: a(update.startRing),
    instruct: a(update.instruct),
    succeed: a(update.succeed),
    fail: a(update.fail),
    setAside: a(update.setAside),
    setAsideUninstructed: a(update.setAsideUninstructed),
    passGate: a(update.passGate),
    haltOnBudget: a(update.haltOnBudget),
    halt: a(update.halt),
    pauseRolling: a(update.pauseRolling),
    pauseBetweenRings: a(update.pauseBetweenRings),
    pauseAgain: a(update.pauseAgain),
    resume: a(update.resume),
  },
});

/** Reports from devices in flight, accepted while rolling, paused or halted; a failure past the budget halts. */
const reports = {
  DeviceSucceeded: { guard: 'ringHasDeviceInFlight', actions: 'succeed' },
  DeviceSetAside: [
    { guard: 'setAsideInFlight', actions: 'setAside' },
    { guard: 'setAsideBeforeInstruction', actions: 'setAsideUninstructed' },
  ],
  DeviceFailed: [
    { guard: 'failurePastBudget', target: 'halted', actions: ['fail', 'haltOnBudget'] },
    { guard: 'ringHasDeviceInFlight', actions: 'fail' },
  ],
} as const;
const manualHalt = { RolloutHalted: { target: 'halted', actions: 'halt' } } as const;

export const rolloutMachine = rolloutSetup.createMachine({
  id: 'rollout',
  initial: 'unplanned',
  context: initialRolloutContext,
  states: {
    unplanned: {
      on: { RolloutPlanned: { target: 'betweenRings', actions: 'plan' } },
    },
    betweenRings: {
      on: {
        RingStarted: { guard: 'canStartRing', target: 'rolling', actions: 'startRing' },
        RolloutPaused: { target: 'paused', actions: 'pauseBetweenRings' },
        ...manualHalt,
      },
    },
    rolling: {
      on: {
        DeviceInstructed: { guard: 'instructsCurrentRing', actions: 'instruct' },
        ...reports,
        GatePassed: [
          { guard: 'gateMetOnLastRing', target: 'completed', actions: 'passGate' },
          { guard: 'gateMet', target: 'betweenRings', actions: 'passGate' },
        ],
        RolloutPaused: { target: 'paused', actions: 'pauseRolling' },
        ...manualHalt,
      },
    },
    paused: {
      on: {
        ...reports,
        RolloutPaused: { actions: 'pauseAgain' },
        RolloutResumed: [
          { guard: 'resumesIntoRolling', target: 'rolling', actions: 'resume' },
          { guard: 'resumesBetweenRings', target: 'betweenRings', actions: 'resume' },
          { guard: 'pausedByThisParty', actions: 'resume' },
        ],
        ...manualHalt,
      },
    },
    halted: {
      on: {
        DeviceSucceeded: { guard: 'ringHasDeviceInFlight', actions: 'succeed' },
        DeviceSetAside: { guard: 'setAsideInFlight', actions: 'setAside' },
        DeviceFailed: { guard: 'ringHasDeviceInFlight', actions: 'fail' },
      },
    },
    completed: { type: 'final' },
  },
});
