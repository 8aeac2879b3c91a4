/**
 * The per-device hotpatch lifecycle, as an xstate v5 machine. This object is the single source of truth:
 * the library runs it, `evolve` is compiled from it, the model checker explores it and the docs' diagram is
 * generated from it. Keep it flat (no nested or parallel states), with named guards and `assign` actions only:
 * `compileEvolve` refuses anything else rather than replay it wrongly.
 */
import { assign, setup } from 'xstate';
import type { DeviceEventBody } from './events.js';
import * as update from './actions.js';
import { initialDeviceContext, type DeviceContext } from './context.js';
import * as rules from './guards.js';

// The guards and updates are written against the one event they handle; the machine routes only that event to
// them, so widening their parameter type to the whole union here is sound.
type AnyGuard = (args: rules.GuardArgs) => boolean;
const g = (fn: unknown): AnyGuard => fn as AnyGuard;
const a = (fn: unknown) => assign<DeviceContext, DeviceEventBody, undefined, DeviceEventBody, never>(fn as (args: update.UpdateArgs) => Partial<DeviceContext>);

export const deviceSetup = setup({
  types: {
    context: {} as DeviceContext,
    events: {} as DeviceEventBody,
  },
  guards: {
    deviceIsEligible: g(rules.deviceIsEligible),
    assessedEligible: g(rules.assessedEligible),
    canStage: g(rules.canStage),
    isPatchInFlight: g(rules.isPatchInFlight),
    inFlightLiveRevertible: g(rules.inFlightLiveRevertible),
    verifiedLiveRevertible: g(rules.verifiedLiveRevertible),
  },
  actions: {
    enrol: a(update.enrol),
    recordEligibility: a(update.recordEligibility),
    stage: a(update.stage),
    applyPatch: a(update.applyPatch),
    recordFailure: a(update.recordFailure),
    verify: a(update.verify),
    reopenVerified: a(update.reopenVerified),
    restore: a(update.restore),
    failRollback: a(update.failRollback),
    requireReboot: a(update.requireReboot),
    installBaseline: a(update.installBaseline),
  },
});

const retire = { DeviceRetired: { target: 'retired' } } as const;
const reboot = { RebootRequired: { target: 'needsReboot', actions: 'requireReboot' } } as const;
/** Assessed before it rests: eligible devices become `current`, others `ineligible`. */
const assessToCurrent = {
  EligibilityAssessed: [
    { guard: 'assessedEligible', target: 'current', actions: 'recordEligibility' },
    { target: 'ineligible', actions: 'recordEligibility' },
  ],
} as const;
/** Assessed while resting: eligible devices stay where they are, others become `ineligible`. */
const assessInPlace = {
  EligibilityAssessed: [
    { guard: 'assessedEligible', actions: 'recordEligibility' },
    { target: 'ineligible', actions: 'recordEligibility' },
  ],
} as const;
const stageNext = { PatchStaged: { guard: 'canStage', target: 'staged', actions: 'stage' } } as const;

export const deviceMachine = deviceSetup.createMachine({
  id: 'device',
  initial: 'unenrolled',
  context: initialDeviceContext,
  states: {
    unenrolled: {
      on: { DeviceEnrolled: { target: 'enrolled', actions: 'enrol' } },
    },
    enrolled: {
      on: { ...assessToCurrent, ...reboot, ...retire },
    },
    ineligible: {
      on: { ...assessToCurrent, ...reboot, ...retire },
    },
    current: {
      on: { ...stageNext, ...assessInPlace, ...reboot, ...retire },
    },
    staged: {
      on: {
        PatchApplyStarted: { guard: 'isPatchInFlight', target: 'applying' },
        ...reboot,
        ...retire,
      },
    },
    applying: {
      on: {
        PatchApplied: { guard: 'isPatchInFlight', target: 'applied', actions: 'applyPatch' },
        PatchApplyFailed: { guard: 'isPatchInFlight', target: 'failed', actions: 'recordFailure' },
        ...retire,
      },
    },
    applied: {
      on: {
        PatchVerified: { guard: 'isPatchInFlight', target: 'verified', actions: 'verify' },
        HealthCheckFailed: { guard: 'isPatchInFlight', target: 'failed', actions: 'recordFailure' },
        RollbackStarted: { guard: 'inFlightLiveRevertible', target: 'rollingBack' },
        ...reboot,
        ...retire,
      },
    },
    failed: {
      on: {
        RollbackStarted: { guard: 'inFlightLiveRevertible', target: 'rollingBack' },
        ...reboot,
        ...retire,
      },
    },
    verified: {
      on: {
        ...stageNext,
        RollbackStarted: { guard: 'verifiedLiveRevertible', target: 'rollingBack', actions: 'reopenVerified' },
        ...assessInPlace,
        ...reboot,
        ...retire,
      },
    },
    rollingBack: {
      on: {
        PatchRolledBack: { guard: 'isPatchInFlight', target: 'rolledBack', actions: 'restore' },
        RollbackFailed: { guard: 'isPatchInFlight', target: 'needsReboot', actions: 'failRollback' },
        ...retire,
      },
    },
    rolledBack: {
      on: { ...stageNext, ...assessInPlace, ...reboot, ...retire },
    },
    needsReboot: {
      on: {
        BaselineInstalled: [
          { guard: 'deviceIsEligible', target: 'current', actions: 'installBaseline' },
          { target: 'ineligible', actions: 'installBaseline' },
        ],
        RebootRequired: { actions: 'requireReboot' },
        EligibilityAssessed: { actions: 'recordEligibility' },
        ...retire,
      },
    },
    retired: { type: 'final' },
  },
});

export type DeviceMachine = typeof deviceMachine;
