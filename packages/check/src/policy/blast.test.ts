import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_POLICY, type FleetPolicy } from '@hotpatch/fleet';
import { blastRadius, type BlastResult } from './blast.js';
import { policyInvariants, POLICY_DEVICE_STATES } from './policy-invariants.js';
import type { CustomInvariant } from '../custom-invariants.js';

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

  /** A random custom invariant for a policy: any kind, one ring or all, any state it takes, small bounds. */
  const customFor = (p: FleetPolicy): fc.Arbitrary<CustomInvariant> => {
    const ring = fc.option(fc.constantFrom(...p.rings.map((r) => r.name)), { nil: undefined });
    const state = fc.constantFrom(...POLICY_DEVICE_STATES);
    const opt = <T>(key: string, v: T | undefined) => (v === undefined ? {} : { [key]: v });
    return fc.oneof(
      fc.record({ ring, state, count: fc.integer({ min: 0, max: 3 }) }).map((x) => ({ kind: 'atMost' as const, state: x.state, count: x.count, ...opt('ring', x.ring) })),
      fc.record({ ring, state, afterHours: fc.option(fc.constantFrom(0, 2, 24, 72), { nil: undefined }) }).map((x) => ({ kind: 'never' as const, state: x.state, ...opt('ring', x.ring), ...opt('afterHours', x.afterHours) })),
      fc.record({ ring, state: fc.constantFrom('applying' as const, 'applied' as const), hours: fc.constantFrom(0.5, 1, 2, 3, 48) }).map((x) => ({ kind: 'leavesWithin' as const, state: x.state, hours: x.hours, ...opt('ring', x.ring) })),
    ) as fc.Arbitrary<CustomInvariant>;
  };
  const verdicts = (r: BlastResult) => r.invariants.filter((i) => i.custom).map((i) => [i.name, i.violated?.labels.length ?? null]);

  it('your own invariants: counting devices per local state gives the verdicts, and the shortest violations, tracking each device gives (fast-check)', () => {
    const world = smallPolicy.chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy), fc.uniqueArray(customFor(policy), { minLength: 1, maxLength: 3, selector: (i) => JSON.stringify(i) })));
    fc.assert(
      fc.property(world, ([policy, ringSizes, specs]) => {
        const named = specs.map((s, k) => ({ ...s, name: `i${k}` }));
        const custom = policyInvariants(named, policy);
        const counted = blastRadius({ policy, ringSizes, custom });
        const plain = blastRadius({ policy, ringSizes, custom, plain: true });
        expect(counted.stats.complete && plain.stats.complete).toBe(true);
        expect(verdicts(counted)).toEqual(verdicts(plain));
        expect(answers(counted)).toEqual(answers(plain));
      }),
      { seed: 2024, numRuns: 60 },
    );
  });

  it('never(S) and atMost(S, 0) are one predicate: the same verdict and the same shortest violation (fast-check)', () => {
    const world = smallPolicy.chain((policy) =>
      fc.tuple(fc.constant(policy), sizesFor(policy), fc.option(fc.constantFrom(...policy.rings.map((r) => r.name)), { nil: undefined }), fc.constantFrom(...POLICY_DEVICE_STATES)),
    );
    fc.assert(
      fc.property(world, ([policy, ringSizes, ring, state]) => {
        const where = ring === undefined ? {} : { ring };
        const custom = policyInvariants([{ kind: 'never', state, ...where, name: 'a' }, { kind: 'atMost', state, count: 0, ...where, name: 'b' }], policy);
        const [never, atMost] = blastRadius({ policy, ringSizes, custom }).invariants.filter((i) => i.custom);
        expect(never!.violated?.labels ?? null).toEqual(atMost!.violated?.labels ?? null);
      }),
      { seed: 4242, numRuns: 60 },
    );
  });
});
