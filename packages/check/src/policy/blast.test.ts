import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_POLICY, type FleetPolicy } from '@hotpatch/fleet';
import { blastRadius, type BlastResult } from './blast.js';

const answers = (r: BlastResult) => ({
  rings: r.rings.map((w) => w.value),
  total: r.total.value,
  longestApplied: r.longestApplied?.value ?? null,
  completesWithBad: r.completesWithBad?.value ?? null,
  violated: r.invariants.filter((i) => i.violated).map((i) => i.name),
});

const ring = fc.record({
  deferralDays: fc.constantFrom(0, 1, 3),
  budget: fc.oneof(fc.record({ count: fc.integer({ min: 0, max: 2 }) }), fc.record({ percent: fc.constantFrom(10, 34, 50) })),
  gate: fc.record({ minVerifiedShare: fc.constantFrom(0, 0.5, 0.8, 1), maxFailureRate: fc.constantFrom(0, 0.1, 0.5), minSoakHours: fc.constantFrom(0, 2, 24) }),
  deadlineDays: fc.constantFrom(1, 2, 5),
});
const smallPolicy = fc.record({
  rings: fc.array(ring, { minLength: 1, maxLength: 2 }).map((rs) => rs.map((r, i) => ({ name: `r${i}`, ...r }))),
  applyTimeoutMinutes: fc.constantFrom(60, 120),
  silenceHours: fc.constantFrom(1, 3, 48),
  maxInstructionsPerTick: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
}) as fc.Arbitrary<FleetPolicy>;
const sizesFor = (p: FleetPolicy) => fc.array(fc.integer({ min: 1, max: 3 }), { minLength: p.rings.length, maxLength: p.rings.length });

describe('the blast radius of a policy', () => {
  it('counting devices per local state gives the worst cases tracking each device gives (small random policies and rings)', () => {
    fc.assert(
      fc.property(smallPolicy.chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy), fc.boolean())), ([policy, ringSizes, applyFailures]) => {
        const counted = blastRadius({ policy, ringSizes, applyFailures });
        const plain = blastRadius({ policy, ringSizes, applyFailures, plain: true });
        expect(counted.stats.complete && plain.stats.complete).toBe(true);
        expect(answers(counted)).toEqual(answers(plain));
      }),
      { seed: 24, numRuns: 60 },
    );
  });

  it('failed applies never make a worst case worse (why the default leaves them out)', () => {
    fc.assert(
      fc.property(smallPolicy.chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy))), ([policy, ringSizes]) => {
        const without = answers(blastRadius({ policy, ringSizes }));
        const withFailures = answers(blastRadius({ policy, ringSizes, applyFailures: true, plain: true }));
        expect(without.rings).toEqual(withFailures.rings);
        expect(without.total).toEqual(withFailures.total);
        expect(without.longestApplied).toEqual(withFailures.longestApplied);
      }),
      { seed: 7, numRuns: 40 },
    );
  });

  it('answers for the policy simulate uses: silent agents are set aside, not failures, so all but one pilot device and the whole broad ring can run a bad release', () => {
    const r = blastRadius({ policy: DEFAULT_POLICY, ringSizes: [20, 180] });
    expect(r.stats.complete).toBe(true);
    expect(answers(r)).toEqual({ rings: [20, 180], total: 199, longestApplied: 335 * 3_600_000, completesWithBad: 198, violated: [] });
  });
});
