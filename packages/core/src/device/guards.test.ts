import { describe, expect, it } from 'vitest';
import * as rules from './guards.js';
import { initialDeviceContext, type DeviceContext } from './context.js';
import type { DeviceEventBody } from './events.js';

const ctx = (over: Partial<DeviceContext> = {}): DeviceContext => ({ ...initialDeviceContext, eligible: true, baseline: 'B1', ...over });
const staged = (over: Partial<{ patch: string; baseline: string; requires: string[]; liveRevert: boolean }> = {}) =>
  ({ type: 'PatchStaged', data: { patch: 'P2', baseline: 'B1', requires: [], liveRevert: true, ...over } }) as const;
const about = (type: 'PatchApplied' | 'RollbackStarted', patch: string) =>
  (type === 'RollbackStarted' ? { type, data: { patch, reason: 'halt' } } : { type, data: { patch } }) as Extract<DeviceEventBody, { data: { patch: string } }>;
const inFlight = (patch: string, liveRevert = true) => ({ patch, baseline: 'B1', requires: [], liveRevert });

describe('lifecycle guards, one rule each', () => {
  it('deviceIsEligible: only a device last assessed eligible', () => {
    expect(rules.deviceIsEligible({ context: ctx(), event: staged() })).toBe(true);
    expect(rules.deviceIsEligible({ context: ctx({ eligible: false }), event: staged() })).toBe(false);
  });

  it('assessedEligible: reads the assessment', () => {
    expect(rules.assessedEligible({ context: ctx(), event: { type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } } })).toBe(true);
    expect(rules.assessedEligible({ context: ctx(), event: { type: 'EligibilityAssessed', data: { eligible: false, reasons: ['vbs'] } } })).toBe(false);
  });

  it("onPatchBaseline: the hotpatch's baseline is the installed one", () => {
    expect(rules.onPatchBaseline({ context: ctx(), event: staged() })).toBe(true);
    expect(rules.onPatchBaseline({ context: ctx({ baseline: 'B0' }), event: staged() })).toBe(false);
  });

  it('nothingInFlight: no patch staged, applying, applied, failed or rolling back', () => {
    expect(rules.nothingInFlight({ context: ctx(), event: staged() })).toBe(true);
    expect(rules.nothingInFlight({ context: ctx({ inFlight: inFlight('P1') }), event: staged() })).toBe(false);
  });

  it('noRebootPending: no reboot reason recorded', () => {
    expect(rules.noRebootPending({ context: ctx(), event: staged() })).toBe(true);
    expect(rules.noRebootPending({ context: ctx({ rebootReason: 'baseline' }), event: staged() })).toBe(false);
  });

  it('requirementsApplied: every required hotpatch is already active', () => {
    expect(rules.requirementsApplied({ context: ctx({ applied: { P1: [] } }), event: staged({ requires: ['P1'] }) })).toBe(true);
    expect(rules.requirementsApplied({ context: ctx({ applied: {} }), event: staged({ requires: ['P1'] }) })).toBe(false);
    expect(rules.requirementsApplied({ context: ctx({ applied: { P1: [] } }), event: staged({ requires: ['P1', 'P3'] }) })).toBe(false);
  });

  it('notAlreadyApplied: the same hotpatch is not staged twice', () => {
    expect(rules.notAlreadyApplied({ context: ctx({ applied: { P1: [] } }), event: staged() })).toBe(true);
    expect(rules.notAlreadyApplied({ context: ctx({ applied: { P2: [] } }), event: staged() })).toBe(false);
  });

  it('isPatchInFlight: a report about another patch is refused', () => {
    expect(rules.isPatchInFlight({ context: ctx({ inFlight: inFlight('P1') }), event: about('PatchApplied', 'P1') })).toBe(true);
    expect(rules.isPatchInFlight({ context: ctx({ inFlight: inFlight('P1') }), event: about('PatchApplied', 'P2') })).toBe(false);
    expect(rules.isPatchInFlight({ context: ctx(), event: about('PatchApplied', 'P1') })).toBe(false);
  });

  it('inFlightLiveRevertible: only a live-revertible patch is rolled back live', () => {
    expect(rules.inFlightLiveRevertible({ context: ctx({ inFlight: inFlight('P1', true) }), event: about('RollbackStarted', 'P1') })).toBe(true);
    expect(rules.inFlightLiveRevertible({ context: ctx({ inFlight: inFlight('P1', false) }), event: about('RollbackStarted', 'P1') })).toBe(false);
    expect(rules.inFlightLiveRevertible({ context: ctx({ inFlight: inFlight('P1', true) }), event: about('RollbackStarted', 'P2') })).toBe(false);
  });

  it('verifiedLiveRevertible: a verified patch is rolled back live only if it allows it', () => {
    expect(rules.verifiedLiveRevertible({ context: ctx({ rollbackable: inFlight('P1', true) }), event: about('RollbackStarted', 'P1') })).toBe(true);
    expect(rules.verifiedLiveRevertible({ context: ctx({ rollbackable: inFlight('P1', false) }), event: about('RollbackStarted', 'P1') })).toBe(false);
    expect(rules.verifiedLiveRevertible({ context: ctx({ rollbackable: null }), event: about('RollbackStarted', 'P1') })).toBe(false);
  });

  it('canStage: all of the staging rules, and names the first that fails', () => {
    const good = { context: ctx({ applied: { P1: [] } }), event: staged({ requires: ['P1'] }) };
    expect(rules.canStage(good)).toBe(true);
    const cases: Array<[string, Partial<DeviceContext>]> = [
      ['deviceIsEligible', { eligible: false }],
      ['onPatchBaseline', { baseline: 'B0' }],
      ['nothingInFlight', { inFlight: inFlight('P3') }],
      ['noRebootPending', { rebootReason: 'baseline' }],
      ['requirementsApplied', { applied: {} }],
      ['notAlreadyApplied', { applied: { P1: [], P2: [] } }],
    ];
    for (const [rule, over] of cases) {
      const args = { context: { ...good.context, ...over }, event: good.event };
      expect(rules.canStage(args)).toBe(false);
      expect(rules.failingRule('canStage', rules.canStage, args)).toBe(rule);
    }
  });
});
