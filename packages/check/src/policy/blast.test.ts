import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_POLICY } from '@hotpatch/fleet';
import { blastRadius, type BlastResult } from './blast.js';
import { PolicyModel } from './policy-model.js';
import { policyInvariants, POLICY_DEVICE_STATES } from './policy-invariants.js';
import { answers, customsFor, sizesFor, smallPolicy } from '../testing/policies.js';

describe('the blast radius of a policy', () => {
  it('counting devices per local state gives the worst cases tracking each device gives (small random policies and rings)', () => {
    fc.assert(
      fc.property(smallPolicy.chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy), fc.boolean())), ([policy, ringSizes, applyFailures]) => {
        const counted = blastRadius({ policy, ringSizes, applyFailures, reduce: false });
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

  const verdicts = (r: BlastResult) => r.invariants.filter((i) => i.custom).map((i) => [i.name, i.violated?.labels.length ?? null]);

  it('your own invariants: counting devices per local state gives the verdicts, and the shortest violations, tracking each device gives (fast-check)', () => {
    const world = smallPolicy.chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy), customsFor(policy)));
    fc.assert(
      fc.property(world, ([policy, ringSizes, specs]) => {
        const custom = policyInvariants(specs, policy);
        const counted = blastRadius({ policy, ringSizes, custom, reduce: false });
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

  it('finds when a device is timed out or set aside near the tick its durations give, asking the rules there, not at every tick since its instruction', () => {
    const ring = { name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 1 }, deadlineDays: 1 };
    const model = new PolicyModel({ policy: { rings: [ring], applyTimeoutMinutes: 525_600, silenceHours: 87_600 }, ringSizes: [3], tickMinutes: 1 });
    const asked = vi.spyOn(model, 'iso');
    expect(model.deadline('a7')).toEqual({ tick: 7 + 525_600, kind: 'timeout' });
    expect(model.deadline('p7')).toEqual({ tick: 7 + 87_600 * 60, kind: 'silence' });
    // Before: one tick at a time, a year of minutes (525,600 times) for the first, ten years for the second.
    expect(asked.mock.calls.length).toBeLessThan(20);
  });
});
