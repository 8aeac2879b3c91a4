import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pausedWithin } from './projection.js';

describe('paused time', () => {
  // Minute by minute over a day: the time within [from, to] that any interval covers, overlaps counted once.
  const minute = 60_000;
  const at = (m: number) => new Date(Date.UTC(2026, 1, 10) + m * minute).toISOString();
  it('property: is the union of the pauses within the window, however they overlap, an open one running to its end', () => {
    const interval = fc.tuple(fc.integer({ min: 0, max: 1440 }), fc.option(fc.integer({ min: 0, max: 1440 }), { nil: null })).map(([a, len]) => [a, len === null ? null : a + len] as const);
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 6 }), fc.integer({ min: 0, max: 1440 }), fc.integer({ min: 0, max: 1440 }), (intervals, x, y) => {
        const [lo, hi] = [Math.min(x, y), Math.max(x, y)];
        let expected = 0;
        for (let m = lo; m < hi; m++) if (intervals.some(([a, b]) => m >= a && (b === null || m < b))) expected++;
        expect(pausedWithin(intervals.map(([a, b]) => [at(a), b === null ? null : at(b)] as const), at(lo), at(hi))).toBe(expected * minute);
      }),
      { numRuns: 500, seed: 20261126 },
    );
  });
});
