/** Small random fleet policies, ring sizes and custom invariants for the policy model's property tests (test-only). */
import fc from 'fast-check';
import type { FleetPolicy } from '@hotpatch/fleet';
import type { CustomInvariant } from '../custom-invariants.js';
import type { BlastResult } from '../policy/blast.js';
import { POLICY_DEVICE_STATES } from '../policy/policy-invariants.js';

/** A blast radius's answers: the worst cases and the invariants violated. */
export const answers = (r: BlastResult) => ({
  rings: r.rings.map((w) => w.value),
  total: r.total.value,
  longestApplied: r.longestApplied?.value ?? null,
  completesWithBad: r.completesWithBad?.value ?? null,
  violated: r.invariants.filter((i) => i.violated).map((i) => i.name),
});

/** What a random policy's rings and agents may take (each list: the values drawn from). */
export interface PolicyChoices {
  readonly soakHours: readonly number[];
  readonly deadlineDays: readonly number[];
  readonly silenceHours: readonly number[];
}

/** One or two rings, budgets by count and by percentage, gates, soaks, deferrals, deadlines, silences, pacing. */
export function policies(choices: PolicyChoices = { soakHours: [0, 2, 24], deadlineDays: [1, 2, 5], silenceHours: [1, 3, 48] }): fc.Arbitrary<FleetPolicy> {
  const ring = fc.record({
    deferralDays: fc.constantFrom(0, 1, 3),
    budget: fc.oneof(fc.record({ count: fc.integer({ min: 0, max: 2 }) }), fc.record({ percent: fc.constantFrom(10, 34, 50) })),
    gate: fc.record(
      { minVerifiedShare: fc.constantFrom(0, 0.5, 0.8, 1), maxFailureRate: fc.constantFrom(0, 0.1, 0.5), minSoakHours: fc.constantFrom(...choices.soakHours), maxSetAsideShare: fc.constantFrom(0, 0.5) },
      { requiredKeys: ['minVerifiedShare', 'maxFailureRate', 'minSoakHours'] },
    ),
    deadlineDays: fc.constantFrom(...choices.deadlineDays),
  });
  return fc.record({
    rings: fc.array(ring, { minLength: 1, maxLength: 2 }).map((rs) => rs.map((r, i) => ({ name: `r${i}`, ...r }))),
    applyTimeoutMinutes: fc.constantFrom(60, 120),
    silenceHours: fc.constantFrom(...choices.silenceHours),
    maxInstructionsPerTick: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
  }) as fc.Arbitrary<FleetPolicy>;
}
export const smallPolicy = policies();
export const sizesFor = (p: FleetPolicy, most = 3) => fc.array(fc.integer({ min: 1, max: most }), { minLength: p.rings.length, maxLength: p.rings.length });

/** A random custom invariant for a policy: any kind, one ring or all, any state it takes, small bounds. */
export const customFor = (p: FleetPolicy): fc.Arbitrary<CustomInvariant> => {
  const ring = fc.option(fc.constantFrom(...p.rings.map((r) => r.name)), { nil: undefined });
  const state = fc.constantFrom(...POLICY_DEVICE_STATES);
  const opt = <T>(key: string, v: T | undefined) => (v === undefined ? {} : { [key]: v });
  return fc.oneof(
    fc.record({ ring, state, count: fc.integer({ min: 0, max: 3 }) }).map((x) => ({ kind: 'atMost' as const, state: x.state, count: x.count, ...opt('ring', x.ring) })),
    fc.record({ ring, state, afterHours: fc.option(fc.constantFrom(0, 2, 24, 72), { nil: undefined }) }).map((x) => ({ kind: 'never' as const, state: x.state, ...opt('ring', x.ring), ...opt('afterHours', x.afterHours) })),
    fc.record({ ring, state: fc.constantFrom('applying' as const, 'applied' as const), hours: fc.constantFrom(0.5, 1, 2, 3, 48) }).map((x) => ({ kind: 'leavesWithin' as const, state: x.state, hours: x.hours, ...opt('ring', x.ring) })),
  ) as fc.Arbitrary<CustomInvariant>;
};
/** Up to three distinct custom invariants for a policy, named i0, i1… */
export const customsFor = (p: FleetPolicy) =>
  fc.uniqueArray(customFor(p), { minLength: 1, maxLength: 3, selector: (i) => JSON.stringify(i) }).map((specs) => specs.map((s, k) => ({ ...s, name: `i${k}` })));
