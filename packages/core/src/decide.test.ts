/** Given/when/then specifications of the decider: events in, a command, events out or a typed refusal. */
import { describe, expect, it } from 'vitest';
import { decide, eventsItMayHaveRecorded, type DeviceCommand } from './decide.js';
import { CommandRefusedError } from './errors.js';
import { deviceLifecycle } from './device/lifecycle.js';
import type { DeviceState } from './device/context.js';
import type { DeviceEventBody } from './device/events.js';
import { eligibleProfile } from './testing/index.js';

const given = (...events: DeviceEventBody[]) => ({
  when: (command: DeviceCommand) => {
    const state = events.reduce((s, e) => deviceLifecycle.evolve(s, e) as DeviceState, deviceLifecycle.initial as DeviceState);
    return {
      then: (expected: DeviceEventBody[]) => expect(decide(state, command).events).toEqual(expected),
      thenRefuses: (pattern: RegExp) => {
        expect(() => decide(state, command)).toThrow(CommandRefusedError);
        expect(() => decide(state, command)).toThrow(pattern);
      },
    };
  },
});

const device = 'd1';
const enrolled: DeviceEventBody = { type: 'DeviceEnrolled', data: { ...eligibleProfile, ring: 'pilot', baseline: 'B1' } };
const eligible: DeviceEventBody = { type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } };
const staged = (liveRevert: boolean): DeviceEventBody => ({ type: 'PatchStaged', data: { patch: 'P1', baseline: 'B1', requires: [], liveRevert } });
const applying = (liveRevert: boolean) => [enrolled, eligible, staged(liveRevert), { type: 'PatchApplyStarted', data: { patch: 'P1' } } as DeviceEventBody];

describe('decide', () => {
  it('enrols a device', () => {
    given().when({ type: 'EnrolDevice', device, profile: eligibleProfile, ring: 'pilot', baseline: 'B1' }).then([enrolled]);
  });

  it('assesses eligibility from what the device reported and the latest baseline', () => {
    given(enrolled).when({ type: 'AssessEligibility', device, latestBaseline: 'B1' }).then([eligible]);
    given(enrolled)
      .when({ type: 'AssessEligibility', device, latestBaseline: 'B2' })
      .then([{ type: 'EligibilityAssessed', data: { eligible: false, reasons: ['baseline: on baseline B1, not the latest (B2)'] } }]);
  });

  it('stages a catalog hotpatch with everything the machine needs in the event', () => {
    given(enrolled, eligible)
      .when({ type: 'StagePatch', device, hotpatch: { id: 'P1', baseline: 'B1', requires: [], liveRevert: true } })
      .then([staged(true)]);
  });

  it('refuses with the machine’s reason: a hotpatch of another baseline', () => {
    given(enrolled, eligible)
      .when({ type: 'StagePatch', device, hotpatch: { id: 'P9', baseline: 'B2', requires: [], liveRevert: true } })
      .thenRefuses(/StagePatch on device\/d1 refused: PatchStaged refused in state 'current' by rule 'onPatchBaseline'/);
  });

  it('a failed apply of a live-revertible patch starts a live rollback', () => {
    given(...applying(true))
      .when({ type: 'ReportApplyFailed', device, patch: 'P1', reason: 'stalled' })
      .then([
        { type: 'PatchApplyFailed', data: { patch: 'P1', reason: 'stalled' } },
        { type: 'RollbackStarted', data: { patch: 'P1', reason: 'apply failed: stalled' } },
      ]);
  });

  it('a failed apply of a patch that cannot be reverted live requires a reboot', () => {
    given(...applying(false))
      .when({ type: 'ReportApplyFailed', device, patch: 'P1', reason: 'stalled' })
      .then([
        { type: 'PatchApplyFailed', data: { patch: 'P1', reason: 'stalled' } },
        { type: 'RebootRequired', data: { reason: 'not-live-revertible' } },
      ]);
  });

  it('a failed health check is handled the same way', () => {
    const applied = [...applying(true), { type: 'PatchApplied', data: { patch: 'P1' } } as DeviceEventBody];
    given(...applied).when({ type: 'ReportHealth', device, patch: 'P1', healthy: true }).then([{ type: 'PatchVerified', data: { patch: 'P1' } }]);
    given(...applied)
      .when({ type: 'ReportHealth', device, patch: 'P1', healthy: false, signal: 'crash' })
      .then([
        { type: 'HealthCheckFailed', data: { patch: 'P1', signal: 'crash' } },
        { type: 'RollbackStarted', data: { patch: 'P1', reason: 'health check failed: crash' } },
      ]);
  });

  it('refuses a live rollback of a patch that cannot be reverted live', () => {
    const applied = [...applying(false), { type: 'PatchApplied', data: { patch: 'P1' } } as DeviceEventBody];
    given(...applied).when({ type: 'RollBack', device, patch: 'P1', reason: 'halt' }).thenRefuses(/inFlightLiveRevertible/);
  });

  it('a retired device accepts no command', () => {
    given(enrolled, eligible, { type: 'DeviceRetired', data: {} })
      .when({ type: 'RequireReboot', device, reason: 'baseline' })
      .thenRefuses(/refused in state 'retired'; accepted here: nothing/);
  });

  it('what a command may have recorded before the device moved on: its events, and a failure report with either remedy', () => {
    const rebooting = [...applying(false), { type: 'PatchApplied', data: { patch: 'P1' } } as DeviceEventBody, { type: 'RebootRequired', data: { reason: 'not-live-revertible' } } as DeviceEventBody];
    const state = rebooting.reduce((s, e) => deviceLifecycle.evolve(s, e) as DeviceState, deviceLifecycle.initial as DeviceState);
    const failed = { type: 'HealthCheckFailed', data: { patch: 'P1', signal: 'crash' } } as const;
    expect(eventsItMayHaveRecorded(state, { type: 'ReportHealth', device, patch: 'P1', healthy: false, signal: 'crash' })).toEqual([
      // The reboot cleared the patch in flight: a live rollback on this state, the reboot it took on the earlier one.
      [failed, { type: 'RollbackStarted', data: { patch: 'P1', reason: 'health check failed: crash' } }],
      [failed, { type: 'RebootRequired', data: { reason: 'not-live-revertible' } }],
    ]);
    expect(eventsItMayHaveRecorded(state, { type: 'ReportHealth', device, patch: 'P1', healthy: true })).toEqual([[{ type: 'PatchVerified', data: { patch: 'P1' } }]]);
  });
});
