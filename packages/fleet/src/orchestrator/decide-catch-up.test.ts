/** Given/when/then specifications of the catch-up decision: the log in, a catch-up at a time, the intents out. */
import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { at, device, given, HOTPATCH, pilotProved, RELEASED, ring, rollout } from './testing/given.js';
import type { ReleaseToRoll } from './release.js';

const HP = rollout(HOTPATCH);
const hours = (h: number) => new Date(Date.parse(RELEASED) + h * 3_600_000).toISOString();
const late = [at(hours(26)), device('late').enrolled('pilot'), device('late').assessed()];

describe('the catch-up decision', () => {
  it('gives a device that joined its ring after the turn what the turn proved: the hotpatch, staged and applied', () => {
    const catchUp = given(...pilotProved, ...late)
      .when(hours(27))
      .catchUp()
      .then('device/late@2: PatchStaged', 'device/late@3: PatchApplyStarted');
    expect(catchUp.result).toEqual({ caughtUp: 1, timedOut: 0, healed: 0 });
    // Still in view until nothing is left for it; p1, up to date, is not.
    expect([...catchUp.decided.memory.behind]).toEqual(['late']);
  });

  it('given its stage recorded before (it failed since), it leaves the device alone: each step once per device and release', () => {
    const catchUp = given(...pilotProved, ...late)
      .when(hours(27), { answers: new Map([[0, { kind: 'duplicate' }]]) })
      .catchUp()
      .then('device/late@2: PatchStaged');
    expect(catchUp.result.caughtUp).toBe(0);
    expect([...catchUp.decided.memory.behind]).toEqual([]);
  });

  it('restarts a device behind on its baseline onto the newest baseline its ring proved', () => {
    const FEBRUARY: ReleaseToRoll = { id: 'B-2026-02', kind: 'baseline', releasedAt: '2026-02-03T17:00:00.000Z', baseline: 'B-2026-02', liveRevert: false };
    const B = rollout(FEBRUARY);
    const p1 = [device('p1').enrolled('pilot', 'B-2026-02'), device('p1').assessed(), B.instructed('pilot', 'p1', 'reboot'), B.succeeded('pilot', 'p1')];
    const catchUp = given(B.planned(), B.ringStarted('pilot', RELEASED, 1), ...p1, at(hours(25)), B.gatePassed('pilot', hours(25)), ...late)
      .when(hours(27))
      .catchUp()
      .then('device/late@2: RebootRequired');
    expect(catchUp.events(0)[0]!.data).toEqual({ reason: 'baseline', baseline: 'B-2026-02' });
  });

  it('gives a device that cannot take hotpatches the newest proven hotpatch’s cumulative update, with a restart', () => {
    const ineligible = [at(hours(26)), device('late').enrolled('pilot', HOTPATCH.baseline, { ...eligibleProfile, vbs: false }), device('late').assessed(false)];
    const catchUp = given(...pilotProved, ...ineligible).when(hours(27)).catchUp().then('device/late@2: RebootRequired');
    expect(catchUp.events(0)[0]!.data).toEqual({ reason: 'eligibility', baseline: 'LCU-HP-2026-02' });
  });

  it('leaves a paused ring’s devices alone, in view until it resumes', () => {
    const catchUp = given(...pilotProved, ...late, ring('pilot').paused()).when(hours(27)).catchUp().then();
    expect([...catchUp.decided.memory.behind]).toEqual(['p1', 'late']);
  });

  it('times out a catch-up apply that stalled, as a rollout times out its own', () => {
    const stalled = [...late, device('late').staged(), device('late').applying()];
    const catchUp = given(...pilotProved, ...stalled).when(hours(28)).catchUp().then('device/late@4: PatchApplyFailed, RollbackStarted');
    expect(catchUp.result).toEqual({ caughtUp: 0, timedOut: 1, healed: 0 });
    expect(catchUp.events(0)[0]!.data).toEqual({ patch: HOTPATCH.id, reason: 'timed out after 60 min' });
  });
});
