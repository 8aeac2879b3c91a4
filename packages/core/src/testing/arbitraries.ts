/**
 * fast-check arbitraries for device events, over a small alphabet (three patches, two baselines) so that random
 * sequences keep hitting the same patches and reach deep states. Test-only: not part of the built package.
 */
import fc from 'fast-check';
import type { DeviceEventBody, DeviceProfile } from '../device/events.js';
import type { DeviceState } from '../device/context.js';
import { deviceLifecycle } from '../device/lifecycle.js';

export const PATCHES = ['P1', 'P2', 'P3'] as const;
export const BASELINES = ['B1', 'B2'] as const;
export const REASONS = ['baseline', 'unplanned-baseline', 'out-of-band', 'not-live-revertible', 'eligibility'] as const;

export const eligibleProfile: DeviceProfile = {
  edition: 'Enterprise E3',
  build: '26100.2000',
  arch: 'x64',
  vbs: true,
  tpm2: true,
  secureBoot: true,
  chpeDisabled: false,
};

const patch = fc.constantFrom(...PATCHES);
const baseline = fc.constantFrom(...BASELINES);

/** Any device event body over the small alphabet, valid or not in a given state. */
export const deviceEventBody: fc.Arbitrary<DeviceEventBody> = fc.oneof(
  { arbitrary: baseline.map((b): DeviceEventBody => ({ type: 'DeviceEnrolled', data: { ...eligibleProfile, ring: 'pilot', baseline: b } })), weight: 1 },
  { arbitrary: fc.boolean().map((eligible): DeviceEventBody => ({ type: 'EligibilityAssessed', data: { eligible, reasons: eligible ? [] : ['vbs: off'] } })), weight: 2 },
  {
    arbitrary: fc
      .record({ patch, baseline, requires: fc.subarray([...PATCHES], { maxLength: 2 }), liveRevert: fc.boolean() })
      .map((d): DeviceEventBody => ({ type: 'PatchStaged', data: { ...d, requires: d.requires.filter((r) => r !== d.patch) } })),
    weight: 4,
  },
  { arbitrary: patch.map((p): DeviceEventBody => ({ type: 'PatchApplyStarted', data: { patch: p } })), weight: 3 },
  { arbitrary: patch.map((p): DeviceEventBody => ({ type: 'PatchApplied', data: { patch: p } })), weight: 3 },
  { arbitrary: patch.map((p): DeviceEventBody => ({ type: 'PatchApplyFailed', data: { patch: p, reason: 'stalled' } })), weight: 1 },
  { arbitrary: patch.map((p): DeviceEventBody => ({ type: 'PatchVerified', data: { patch: p } })), weight: 3 },
  { arbitrary: patch.map((p): DeviceEventBody => ({ type: 'HealthCheckFailed', data: { patch: p, signal: 'crash' } })), weight: 1 },
  { arbitrary: patch.map((p): DeviceEventBody => ({ type: 'RollbackStarted', data: { patch: p, reason: 'halt' } })), weight: 2 },
  { arbitrary: patch.map((p): DeviceEventBody => ({ type: 'PatchRolledBack', data: { patch: p } })), weight: 2 },
  { arbitrary: patch.map((p): DeviceEventBody => ({ type: 'RollbackFailed', data: { patch: p, reason: 'stuck' } })), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...REASONS), fc.option(baseline, { nil: undefined }))
      .map(([reason, b]): DeviceEventBody => ({ type: 'RebootRequired', data: b === undefined ? { reason } : { reason, baseline: b } })),
    weight: 1,
  },
  { arbitrary: baseline.map((b): DeviceEventBody => ({ type: 'BaselineInstalled', data: { baseline: b } })), weight: 2 },
  { arbitrary: fc.constant<DeviceEventBody>({ type: 'DeviceRetired', data: {} }), weight: 1 },
);

/** Every concrete event body of the small alphabet (used to pick events a state accepts). */
export const ALL_EVENT_BODIES: readonly DeviceEventBody[] = (() => {
  const out: DeviceEventBody[] = [];
  for (const b of BASELINES) {
    out.push({ type: 'DeviceEnrolled', data: { ...eligibleProfile, ring: 'pilot', baseline: b } });
    out.push({ type: 'BaselineInstalled', data: { baseline: b } });
  }
  out.push({ type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } }, { type: 'EligibilityAssessed', data: { eligible: false, reasons: ['vbs: off'] } });
  for (const p of PATCHES) {
    for (const b of BASELINES)
      for (const liveRevert of [true, false]) {
        out.push({ type: 'PatchStaged', data: { patch: p, baseline: b, requires: [], liveRevert } });
        for (const r of PATCHES) if (r !== p) out.push({ type: 'PatchStaged', data: { patch: p, baseline: b, requires: [r], liveRevert } });
      }
    out.push(
      { type: 'PatchApplyStarted', data: { patch: p } },
      { type: 'PatchApplied', data: { patch: p } },
      { type: 'PatchApplyFailed', data: { patch: p, reason: 'stalled' } },
      { type: 'PatchVerified', data: { patch: p } },
      { type: 'HealthCheckFailed', data: { patch: p, signal: 'crash' } },
      { type: 'RollbackStarted', data: { patch: p, reason: 'halt' } },
      { type: 'PatchRolledBack', data: { patch: p } },
      { type: 'RollbackFailed', data: { patch: p, reason: 'stuck' } },
    );
  }
  for (const reason of REASONS) out.push({ type: 'RebootRequired', data: { reason } });
  out.push({ type: 'RebootRequired', data: { reason: 'baseline', baseline: 'B2' } }, { type: 'DeviceRetired', data: {} });
  return out;
})();

/** The events of ALL_EVENT_BODIES that `state` accepts. */
export function acceptedBodies(state: DeviceState): DeviceEventBody[] {
  return ALL_EVENT_BODIES.filter((e) => deviceLifecycle.step(state, e) !== undefined && (e.type !== 'DeviceRetired' || state.value !== 'unenrolled'));
}

/**
 * A sequence of events that mostly (about 80%) follows the lifecycle, so that it reaches deep states, with random
 * (often refused) events mixed in. `choices` drive which accepted event is taken.
 */
export const guidedSequence: fc.Arbitrary<DeviceEventBody[]> = fc
  .array(fc.tuple(fc.nat({ max: 999 }), deviceEventBody), { minLength: 1, maxLength: 60 })
  .map((steps) => {
    let state = deviceLifecycle.initial as DeviceState;
    const out: DeviceEventBody[] = [];
    for (const [choice, random] of steps) {
      const accepted = choice % 10 < 8 ? acceptedBodies(state).filter((e) => e.type !== 'DeviceRetired' || choice % 50 === 0) : [];
      const event = accepted.length > 0 ? accepted[choice % accepted.length]! : random;
      out.push(event);
      state = (deviceLifecycle.step(state, event)?.state as DeviceState | undefined) ?? state;
    }
    return out;
  });
