import { describe, expect, it } from 'vitest';
import { addRelease, CatalogError, declareOutOfBand, declareUnplannedBaseline, hotpatchesOf, latestBaseline, monthKind, patchTuesday, planReleases, requirementClosure } from './catalog.js';

describe('release calendar', () => {
  it('ships on the second Tuesday of the month', () => {
    expect(patchTuesday(2026, 1).toISOString()).toBe('2026-01-13T17:00:00.000Z');
    expect(patchTuesday(2026, 2).toISOString()).toBe('2026-02-10T17:00:00.000Z');
    expect(patchTuesday(2026, 9).toISOString()).toBe('2026-09-08T17:00:00.000Z'); // the 1st is a Tuesday
    expect(patchTuesday(2025, 4).toISOString()).toBe('2025-04-08T17:00:00.000Z');
    for (let m = 1; m <= 12; m++) {
      const d = patchTuesday(2027, m);
      expect(d.getUTCDay()).toBe(2);
      expect(d.getUTCDate()).toBeGreaterThanOrEqual(8);
      expect(d.getUTCDate()).toBeLessThanOrEqual(14);
    }
  });

  it('has baselines in January, April, July and October, hotpatches between', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(monthKind).join(' ')).toBe(
      'baseline hotpatch hotpatch baseline hotpatch hotpatch baseline hotpatch hotpatch baseline hotpatch hotpatch',
    );
  });

  it('plans a year: 4 baselines and 8 hotpatches, each hotpatch on its quarter’s baseline', () => {
    const year = planReleases({ from: '2026-01', months: 12 });
    expect(year.releases.filter((r) => r.kind === 'baseline').map((r) => r.id)).toEqual(['B-2026-01', 'B-2026-04', 'B-2026-07', 'B-2026-10']);
    expect(hotpatchesOf(year, 'B-2026-04').map((r) => r.id)).toEqual(['HP-2026-05', 'HP-2026-06']);
    const started = planReleases({ from: '2026-02', months: 2 });
    expect(hotpatchesOf(started, 'B-2026-01').map((r) => r.id)).toEqual(['HP-2026-02', 'HP-2026-03']);
    expect(() => planReleases({ from: '2026-13', months: 1 })).toThrow(CatalogError);
  });

  it('an unplanned baseline replaces that month’s hotpatch and the quarter’s later hotpatches move onto it', () => {
    const q = declareUnplannedBaseline(planReleases({ from: '2026-01', months: 3 }), '2026-02');
    expect(q.releases.map((r) => r.id)).toEqual(['B-2026-01', 'UB-2026-02', 'HP-2026-03']);
    expect(hotpatchesOf(q, 'UB-2026-02').map((r) => r.id)).toEqual(['HP-2026-03']);
    expect(latestBaseline(q, '2026-02-20T00:00:00.000Z')?.id).toBe('UB-2026-02');
    expect(() => declareUnplannedBaseline(q, '2026-01')).toThrow(CatalogError);
  });

  it('an out-of-band hotpatch lands on the baseline current at its release', () => {
    const q = declareOutOfBand(planReleases({ from: '2026-01', months: 3 }), 'OOB-2026-02-21', '2026-02-21T18:00:00.000Z');
    const oob = q.releases.find((r) => r.id === 'OOB-2026-02-21');
    expect(oob).toMatchObject({ kind: 'hotpatch', baseline: 'B-2026-01', outOfBand: true });
  });

  it('checks requirements and computes their closure in dependency order', () => {
    let c = planReleases({ from: '2026-01', months: 2 });
    c = addRelease(c, { kind: 'hotpatch', id: 'SSU-1', released: '2026-02-10T17:00:00.000Z', baseline: 'B-2026-01', requires: [], liveRevert: true, outOfBand: false });
    c = addRelease(c, { kind: 'hotpatch', id: 'X-1', released: '2026-02-10T17:00:00.000Z', baseline: 'B-2026-01', requires: ['SSU-1'], liveRevert: true, outOfBand: false });
    c = addRelease(c, { kind: 'hotpatch', id: 'Y-1', released: '2026-02-10T17:00:00.000Z', baseline: 'B-2026-01', requires: ['X-1', 'HP-2026-02'], liveRevert: true, outOfBand: false });
    expect(requirementClosure(c, 'Y-1')).toEqual(['SSU-1', 'X-1', 'HP-2026-02']);
    expect(() => addRelease(c, { kind: 'hotpatch', id: 'Z', released: '2026-02-10T17:00:00.000Z', baseline: 'B-2026-01', requires: ['nope'], liveRevert: true, outOfBand: false })).toThrow(/requires nope/);
    expect(() => addRelease(c, { kind: 'hotpatch', id: 'Z', released: '2026-02-10T17:00:00.000Z', baseline: 'B-1999-01', requires: [], liveRevert: true, outOfBand: false })).toThrow(/baseline/);
    const cyclic = { releases: [...c.releases, { kind: 'hotpatch' as const, id: 'A', released: '2026-02-10T17:00:00.000Z', baseline: 'B-2026-01', requires: ['B'], liveRevert: true, outOfBand: false }, { kind: 'hotpatch' as const, id: 'B', released: '2026-02-10T17:00:00.000Z', baseline: 'B-2026-01', requires: ['A'], liveRevert: true, outOfBand: false }] };
    expect(() => requirementClosure(cyclic, 'A')).toThrow(/cycle: A → B → A/);
  });
});
