import { describe, expect, it } from 'vitest';
import { declareOutOfBand, deferralsFrom, planReleases } from '../catalog.js';
import { ringOpensAt, type RolloutState } from './context.js';
import type { RolloutEventBody, RingPolicy } from './events.js';
import { rolloutLifecycle } from './lifecycle.js';

const rings: RingPolicy[] = [
  { name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0, maxFailureRate: 1, minSoakHours: 24 }, deadlineDays: 5 },
  { name: 'broad', deferralDays: 3, budget: { count: 1 }, gate: { minVerifiedShare: 0, maxFailureRate: 1, minSoakHours: 24 }, deadlineDays: 14 },
  { name: 'late', deferralDays: 14, budget: { count: 1 }, gate: { minVerifiedShare: 0, maxFailureRate: 1, minSoakHours: 24 }, deadlineDays: 14 },
];
const PATCH_TUESDAY = '2026-02-10T17:00:00.000Z';
const OOB = '2026-02-20T17:00:00.000Z';

function fold(events: RolloutEventBody[]): RolloutState | undefined {
  let s: RolloutState | undefined = rolloutLifecycle.initial as RolloutState;
  for (const e of events) s = s && (rolloutLifecycle.next(s, e as never) as RolloutState | undefined);
  return s;
}
const planned = (deferrals?: string): RolloutEventBody => ({
  type: 'RolloutPlanned',
  data: { release: 'OOB-2026-02', releaseKind: 'hotpatch', releasedAt: OOB, liveRevert: true, outOfBand: true, rings, ...(deferrals ? { deferralsFrom: deferrals } : {}) },
});
const pilotDone: RolloutEventBody[] = [
  { type: 'RingStarted', data: { ring: 'pilot', at: OOB, devices: 0 } },
  { type: 'GatePassed', data: { ring: 'pilot', at: '2026-02-21T17:00:00.000Z' } },
];

describe('out-of-band releases are expedited by the rings’ deferrals', () => {
  it('the catalog gives the Patch Tuesday an out-of-band release ships after; a regular release counts from itself', () => {
    const catalog = declareOutOfBand(planReleases({ from: '2026-01', months: 3 }), 'OOB-2026-02', OOB);
    expect(deferralsFrom(catalog, catalog.releases.find((r) => r.id === 'OOB-2026-02')!)).toBe(PATCH_TUESDAY);
    const march = catalog.releases.find((r) => r.id === 'HP-2026-03')!;
    expect(deferralsFrom(catalog, march)).toBe(march.released);
  });

  it('a ring whose deferral has passed since then starts at once; one still inside it, on its usual date', () => {
    const s = fold([planned(PATCH_TUESDAY)])!;
    expect(ringOpensAt(s.context, 0)).toBe(OOB); // never before the release itself
    expect(ringOpensAt(s.context, 1)).toBe(OOB); // Patch Tuesday + 3 days is past
    expect(ringOpensAt(s.context, 2)).toBe('2026-02-24T17:00:00.000Z'); // Patch Tuesday + 14 days
    const broadNow: RolloutEventBody = { type: 'RingStarted', data: { ring: 'broad', at: '2026-02-21T18:00:00.000Z', devices: 0 } };
    expect(fold([planned(PATCH_TUESDAY), ...pilotDone, broadNow])?.value).toBe('rolling');
    // Without it, the broad ring waits three days after the out-of-band release.
    expect(fold([planned(), ...pilotDone, broadNow])).toBeUndefined();
    expect(ringOpensAt(fold([planned()])!.context, 1)).toBe('2026-02-23T17:00:00.000Z');
  });
});
