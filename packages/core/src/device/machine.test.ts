/**
 * The lifecycle's rules as behaviour: each sequence is run through the real xstate actor and through evolve,
 * which must agree; a refused event leaves the actor where it was and makes evolve throw a typed error.
 */
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { deviceMachine } from './machine.js';
import { deviceLifecycle } from './lifecycle.js';
import { appliedPatches, type DeviceState } from './context.js';
import { TransitionRefusedError } from '../errors.js';
import type { DeviceEventBody } from './events.js';
import { eligibleProfile } from '../testing/index.js';

const E = {
  enrol: (baseline = 'B1'): DeviceEventBody => ({ type: 'DeviceEnrolled', data: { ...eligibleProfile, ring: 'pilot', baseline } }),
  assess: (eligible = true): DeviceEventBody => ({ type: 'EligibilityAssessed', data: { eligible, reasons: eligible ? [] : ['vbs: off'] } }),
  stage: (patch: string, o: { baseline?: string; requires?: string[]; liveRevert?: boolean } = {}): DeviceEventBody => ({
    type: 'PatchStaged',
    data: { patch, baseline: o.baseline ?? 'B1', requires: o.requires ?? [], liveRevert: o.liveRevert ?? true },
  }),
  start: (patch: string): DeviceEventBody => ({ type: 'PatchApplyStarted', data: { patch } }),
  applied: (patch: string): DeviceEventBody => ({ type: 'PatchApplied', data: { patch } }),
  applyFailed: (patch: string): DeviceEventBody => ({ type: 'PatchApplyFailed', data: { patch, reason: 'stalled' } }),
  verified: (patch: string): DeviceEventBody => ({ type: 'PatchVerified', data: { patch } }),
  unhealthy: (patch: string): DeviceEventBody => ({ type: 'HealthCheckFailed', data: { patch, signal: 'crash' } }),
  rollback: (patch: string): DeviceEventBody => ({ type: 'RollbackStarted', data: { patch, reason: 'halt' } }),
  rolledBack: (patch: string): DeviceEventBody => ({ type: 'PatchRolledBack', data: { patch } }),
  rollbackFailed: (patch: string): DeviceEventBody => ({ type: 'RollbackFailed', data: { patch, reason: 'stuck' } }),
  reboot: (reason = 'baseline', baseline?: string): DeviceEventBody => ({ type: 'RebootRequired', data: baseline ? { reason, baseline } : { reason } }),
  installed: (baseline: string): DeviceEventBody => ({ type: 'BaselineInstalled', data: { baseline } }),
  retired: (): DeviceEventBody => ({ type: 'DeviceRetired', data: {} }),
};
const verifiedCycle = (patch: string, o?: Parameters<typeof E.stage>[1]) => [E.stage(patch, o), E.start(patch), E.applied(patch), E.verified(patch)];

/** Runs events through the actor and evolve; returns the final state. Every event must be accepted. */
function run(events: DeviceEventBody[]): DeviceState {
  const actor = createActor(deviceMachine).start();
  let state = deviceLifecycle.initial as DeviceState;
  for (const event of events) {
    state = deviceLifecycle.evolve(state, event) as DeviceState;
    actor.send(event);
    const snapshot = actor.getSnapshot();
    expect({ value: snapshot.value, context: snapshot.context }).toEqual(state);
  }
  return state;
}

/** Asserts that `event` is refused after `events`: the actor does not move, evolve throws naming the rule. */
function refused(events: DeviceEventBody[], event: DeviceEventBody, rule?: string): TransitionRefusedError {
  const state = run(events);
  const actor = createActor(deviceMachine, { snapshot: deviceMachine.resolveState(state) }).start();
  // A finished actor takes no events at all (xstate warns if sent one); any other must ignore this one.
  if (actor.getSnapshot().status !== 'done') actor.send(event);
  else expect(deviceLifecycle.finalStates.has(state.value)).toBe(true);
  expect({ value: actor.getSnapshot().value, context: actor.getSnapshot().context }).toEqual(state);
  try {
    deviceLifecycle.evolve(state, event);
  } catch (error) {
    expect(error).toBeInstanceOf(TransitionRefusedError);
    expect((error as TransitionRefusedError).rule).toBe(rule);
    return error as TransitionRefusedError;
  }
  throw new Error(`${event.type} was accepted in ${state.value}`);
}

const current = [E.enrol('B1'), E.assess(true)];

describe('device lifecycle rules', () => {
  it('enrols, then the assessment decides: eligible → current, not → ineligible', () => {
    expect(run([E.enrol()]).value).toBe('enrolled');
    expect(run(current).value).toBe('current');
    const ineligible = run([E.enrol(), E.assess(false)]);
    expect(ineligible.value).toBe('ineligible');
    expect(ineligible.context.ineligibleReasons).toEqual(['vbs: off']);
  });

  it('takes a hotpatch through staged → applying → applied → verified', () => {
    const s = run([...current, ...verifiedCycle('P1')]);
    expect(s.value).toBe('verified');
    expect(appliedPatches(s.context)).toEqual(['P1']);
    expect(s.context.inFlight).toBeNull();
    expect(s.context.verifiedPatch).toBe('P1');
  });

  it('stages only on an eligible device', () => {
    refused([E.enrol(), E.assess(false)], E.stage('P1'));
    // A device that lost eligibility while resting leaves the resting state.
    expect(run([...current, E.assess(false)]).value).toBe('ineligible');
  });

  it("stages only on the hotpatch's baseline", () => {
    refused(current, E.stage('P1', { baseline: 'B2' }), 'onPatchBaseline');
  });

  it('stages only with nothing in flight', () => {
    refused([...current, E.stage('P1')], E.stage('P2'));
    refused([...current, E.stage('P1'), E.start('P1'), E.applied('P1')], E.stage('P2'));
  });

  it('stages nothing while a reboot is pending', () => {
    refused([...current, E.reboot('baseline', 'B2')], E.stage('P1'));
  });

  it('stages only when the requirements are already applied', () => {
    refused(current, E.stage('P2', { requires: ['P1'] }), 'requirementsApplied');
    const s = run([...current, ...verifiedCycle('P1'), ...verifiedCycle('P2', { requires: ['P1'] })]);
    expect(appliedPatches(s.context)).toEqual(['P1', 'P2']);
    expect(s.context.applied.P2).toEqual(['P1']);
  });

  it('takes patch ids for what they are, even when they are named like Object methods', () => {
    // "constructor" or "toString" is in every plain object; the applied set has no prototype, and the rules ask
    // for own entries only, so such a patch is neither "already applied" nor a satisfied requirement.
    refused(current, E.stage('P2', { requires: ['toString'] }), 'requirementsApplied');
    const s = run([...current, ...verifiedCycle('constructor'), ...verifiedCycle('hasOwnProperty', { requires: ['constructor'] })]);
    expect(appliedPatches(s.context)).toEqual(['constructor', 'hasOwnProperty']);
    refused([...current, ...verifiedCycle('constructor')], E.stage('constructor'), 'notAlreadyApplied');
    // A context read back from JSON (plain objects) is judged the same way.
    const fromJson = JSON.parse(JSON.stringify(run(current))) as DeviceState;
    expect(deviceLifecycle.evolve(fromJson, E.stage('constructor')).value).toBe('staged');
  });

  it('applies the patch together with its requirement closure, or nothing', () => {
    const before = run([...current, ...verifiedCycle('P1'), E.stage('P2', { requires: ['P1'] }), E.start('P2')]);
    expect(appliedPatches(before.context)).toEqual(['P1']);
    const after = deviceLifecycle.evolve(before, E.applied('P2'));
    expect(appliedPatches(after.context)).toEqual(['P1', 'P2']);
    const failed = deviceLifecycle.evolve(before, E.applyFailed('P2'));
    expect(failed.value).toBe('failed');
    expect(appliedPatches(failed.context)).toEqual(['P1']);
  });

  it('refuses a report about a patch that is not in flight', () => {
    refused([...current, E.stage('P1'), E.start('P1')], E.applied('P2'), 'isPatchInFlight');
  });

  it('a live rollback restores exactly the restore point', () => {
    const history = [...current, ...verifiedCycle('P1'), E.stage('P2'), E.start('P2'), E.applied('P2'), E.unhealthy('P2')];
    const failed = run(history);
    expect(failed.value).toBe('failed');
    expect(failed.context.restorePoint).toEqual({ P1: [] });
    const s = run([...history, E.rollback('P2'), E.rolledBack('P2')]);
    expect(s.value).toBe('rolledBack');
    expect(s.context.applied).toEqual({ P1: [] });
    expect(s.context.inFlight).toBeNull();
  });

  it('rolls back a verified patch live when a rollout halts, to the set before it', () => {
    const s = run([...current, ...verifiedCycle('P1'), ...verifiedCycle('P2'), E.rollback('P2'), E.rolledBack('P2')]);
    expect(s.value).toBe('rolledBack');
    expect(appliedPatches(s.context)).toEqual(['P1']);
    refused([...current, ...verifiedCycle('P1'), ...verifiedCycle('P2')], E.rollback('P1'), 'verifiedLiveRevertible');
  });

  it('a failed rollback leads to needsReboot', () => {
    const s = run([...current, E.stage('P1'), E.start('P1'), E.applied('P1'), E.rollback('P1'), E.rollbackFailed('P1')]);
    expect(s.value).toBe('needsReboot');
    expect(s.context.rebootReason).toBe('rollback-failed');
  });

  it('a patch that cannot be reverted live cannot be rolled back live; its failure needs a reboot', () => {
    const failed = [...current, E.stage('P1', { liveRevert: false }), E.start('P1'), E.applyFailed('P1')];
    refused(failed, E.rollback('P1'), 'inFlightLiveRevertible');
    refused([...current, ...verifiedCycle('P1', { liveRevert: false })], E.rollback('P1'), 'verifiedLiveRevertible');
    const s = run([...failed, E.reboot('not-live-revertible')]);
    expect(s.value).toBe('needsReboot');
    expect(s.context.rebootReason).toBe('not-live-revertible');
  });

  it('RebootRequired moves a resting device to needsReboot', () => {
    for (const resting of [current, [...current, ...verifiedCycle('P1')], [...current, E.stage('P1'), E.start('P1'), E.applyFailed('P1'), E.rollback('P1'), E.rolledBack('P1')]]) {
      const s = run([...resting, E.reboot('baseline', 'B2')]);
      expect(s.value).toBe('needsReboot');
      expect(s.context.rebootReason).toBe('baseline');
      expect(s.context.rebootBaseline).toBe('B2');
    }
    // Not while a patch is being applied or rolled back: those finish first.
    refused([...current, E.stage('P1'), E.start('P1')], E.reboot());
    refused([...current, E.stage('P1'), E.start('P1'), E.applied('P1'), E.rollback('P1')], E.reboot());
  });

  it('installing a baseline after the reboot clears every hotpatch and brings the device back to current', () => {
    const s = run([...current, ...verifiedCycle('P1'), ...verifiedCycle('P2'), E.reboot('baseline', 'B2'), E.installed('B2')]);
    expect(s.value).toBe('current');
    expect(s.context.baseline).toBe('B2');
    expect(s.context.applied).toEqual({});
    expect(s.context.rebootReason).toBeNull();
    refused(current, E.installed('B2'));
    // An ineligible device gets the traditional update and stays ineligible until assessed again.
    expect(run([E.enrol(), E.assess(false), E.reboot('eligibility', 'B2'), E.installed('B2')]).value).toBe('ineligible');
  });

  it('keeps the first reboot reason when more arrive', () => {
    const s = run([...current, E.stage('P1'), E.start('P1'), E.applied('P1'), E.rollback('P1'), E.rollbackFailed('P1'), E.reboot('baseline', 'B2')]);
    expect(s.context.rebootReason).toBe('rollback-failed');
    expect(s.context.rebootBaseline).toBe('B2');
  });

  it('a retired device accepts nothing', () => {
    const history = [...current, ...verifiedCycle('P1'), E.retired()];
    expect(run(history).value).toBe('retired');
    for (const event of [E.assess(true), E.stage('P2'), E.reboot(), E.installed('B2'), E.retired(), E.enrol()]) {
      expect(refused(history, event).accepted).toEqual([]);
    }
  });
});
