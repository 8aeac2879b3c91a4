import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeOf } from '../roots.js';
import type { DiagnosedRoot, PositionOutlier } from './diagnosed-root.js';
import { swappedLines } from './swapped-lines.js';

/**
 * The anchor: how swapped lines were paired before, each high against every later low (O(n²)): each high, in order,
 * takes the first later low that fits it and that no earlier high took.
 */
function pairedOneByOne(roots: readonly DiagnosedRoot[]): Map<DiagnosedRoot, DiagnosedRoot | null> {
  const pairs = new Map<DiagnosedRoot, DiagnosedRoot | null>();
  for (let i = 0; i < roots.length; i++) {
    const high = roots[i]!;
    if (high.outlier?.kind !== 'high' || high.outlier.after === undefined) continue;
    for (let j = i + 1; j < roots.length; j++) {
      const low = roots[j]!;
      if (low.outlier?.kind !== 'low' || pairs.has(low)) continue;
      if (low.outlier.value > high.outlier.before && low.outlier.value < high.outlier.after && high.outlier.value > low.outlier.before) {
        high.what = `position ${high.outlier.value} is out of order: this line and ${placeOf(low.at)} (position ${low.outlier.value}) are swapped`;
        pairs.set(high, low);
        pairs.set(low, null);
        break;
      }
    }
  }
  return pairs;
}

const rootsOf = (outliers: readonly PositionOutlier[]): DiagnosedRoot[] =>
  outliers.map((outlier, k) => ({ order: k + 1, at: { line: k + 1 }, field: 'position', what: 'out of order', unchecked: 0, outlier }));

/** Pairs as line numbers, and every root's words. */
const outcome = (roots: readonly DiagnosedRoot[], pairs: ReadonlyMap<DiagnosedRoot, DiagnosedRoot | null>) => ({
  pairs: [...pairs].map(([a, b]) => [a.order, b?.order ?? null]).sort((x, y) => x[0]! - y[0]!),
  what: roots.map((r) => r.what),
});

describe('swapped lines', () => {
  it('pairs a high and the later low that belongs in its place, as one problem', () => {
    // Positions 1 2 [9] 4 5 6 7 8 [3] 10: 9 is above its neighbours, 3 below the one before it.
    const roots = rootsOf([
      { kind: 'high', value: 9, before: 2, after: 4 },
      { kind: 'low', value: 3, before: 8 },
    ]);
    const pairs = swappedLines(roots);
    expect(pairs.get(roots[0]!)).toBe(roots[1]);
    expect(pairs.get(roots[1]!)).toBeNull();
    expect(roots[0]!.what).toBe('position 9 is out of order: this line and line 2 (position 3) are swapped');
  });

  it('property: pairs exactly as comparing every high with every later low did', () => {
    const position = fc.integer({ min: 1, max: 40 });
    const outlier: fc.Arbitrary<PositionOutlier> = fc.oneof(
      fc.tuple(position, position, position).map(([value, before, after]) => ({ kind: 'high' as const, value, before: Math.min(before, after), after: Math.max(before, after) + 1 })),
      fc.tuple(position, position).map(([value, before]) => ({ kind: 'low' as const, value, before })),
    );
    fc.assert(
      fc.property(fc.array(outlier, { maxLength: 60 }), (outliers) => {
        const mine = rootsOf(outliers);
        const anchor = rootsOf(outliers);
        expect(outcome(mine, swappedLines(mine))).toEqual(outcome(anchor, pairedOneByOne(anchor)));
      }),
      { seed: 20261220, numRuns: 2_000 },
    );
  });
});
