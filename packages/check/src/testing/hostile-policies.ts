/** Hostile corner policies, ring sizes and custom invariants for the policy model's property tests (test-only). */
import fc from 'fast-check';
import type { FleetPolicy } from '@hotpatch/fleet';
import { POLICY_DEVICE_STATES } from '../policy/policy-invariants.js';
import type { CustomInvariant } from '../custom-invariants.js';

const ring = fc.record({
  deferralDays: fc.constantFrom(0, 0.02, 0.05, 0.5, 1),
  budget: fc.oneof(fc.record({ count: fc.integer({ min: 0, max: 7 }) }), fc.record({ percent: fc.constantFrom(0, 1, 10, 34, 50, 99, 100) })),
  gate: fc.record(
    {
      minVerifiedShare: fc.constantFrom(0, 0.5, 1),
      maxFailureRate: fc.constantFrom(0, 0.34, 1),
      minSoakHours: fc.constantFrom(0, 0.5, 1, 1.5, 2, 3, 5, 30, 100),
      maxSetAsideShare: fc.constantFrom(0, 0.34, 0.5, 1),
    },
    { requiredKeys: ['minVerifiedShare', 'maxFailureRate', 'minSoakHours'] },
  ),
  deadlineDays: fc.constantFrom(0, 0.01, 0.05, 0.1, 0.2, 1, 2),
});
export const hostilePolicy = fc.record({
  rings: fc.array(ring, { minLength: 1, maxLength: 3 }).map((rs) => rs.map((r, i) => ({ name: `r${i}`, ...r }))),
  applyTimeoutMinutes: fc.constantFrom(1, 30, 60, 90, 120, 150),
  silenceHours: fc.constantFrom(0.5, 1, 1.5, 2, 2.5, 3, 48),
  maxInstructionsPerTick: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
}) as fc.Arbitrary<FleetPolicy>;

const customFor = (p: FleetPolicy): fc.Arbitrary<CustomInvariant> => {
  const ring = fc.option(fc.constantFrom(...p.rings.map((r) => r.name)), { nil: undefined });
  const state = fc.constantFrom(...POLICY_DEVICE_STATES);
  const opt = <T>(key: string, v: T | undefined) => (v === undefined ? {} : { [key]: v });
  return fc.oneof(
    fc.record({ ring, state, count: fc.integer({ min: 0, max: 4 }) }).map((x) => ({ kind: 'atMost' as const, state: x.state, count: x.count, ...opt('ring', x.ring) })),
    fc.record({ ring, state, afterHours: fc.option(fc.constantFrom(0, 0.5, 1, 1.5, 2, 3, 5, 24, 30), { nil: undefined }) }).map((x) => ({ kind: 'never' as const, state: x.state, ...opt('ring', x.ring), ...opt('afterHours', x.afterHours) })),
    fc.record({ ring, state: fc.constantFrom('applying' as const, 'applied' as const), hours: fc.constantFrom(0, 0.25, 0.5, 1, 1.5, 2, 3, 48) }).map((x) => ({ kind: 'leavesWithin' as const, state: x.state, hours: x.hours, ...opt('ring', x.ring) })),
  ) as fc.Arbitrary<CustomInvariant>;
};
const customsFor = (p: FleetPolicy) => fc.uniqueArray(customFor(p), { minLength: 0, maxLength: 4, selector: (i) => JSON.stringify(i) }).map((specs) => specs.map((s, k) => ({ ...s, name: `i${k}` })));

/** Ring sizes of 1 to 6 devices, at most `most` in all (the full search must finish). */
const sizesFor = (p: FleetPolicy, most: number) =>
  fc.array(fc.integer({ min: 1, max: 6 }), { minLength: p.rings.length, maxLength: p.rings.length }).filter((s) => s.reduce((a, b) => a + b, 0) <= most);

export const world = (most: number) =>
  hostilePolicy.chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy, most), fc.boolean(), customsFor(policy), fc.constantFrom(60, 60, 30, 45, 90)));

/**
 * Three devices of r0 instructed a tick apart, the last at 2 h, r0's deadline at 2.4 h: the last one's verification in
 * the interval it applied lets r0 pass its gate before the deadline, which the default search does not explore and
 * every timing does (every-timing.test.ts; deadline-risk.ts names r0).
 */
export const TIGHT_DEADLINE_POLICY: FleetPolicy = {
  rings: [
    { name: 'r0', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0, maxFailureRate: 1, minSoakHours: 0 }, deadlineDays: 0.1 },
    { name: 'r1', deferralDays: 0, budget: { count: 0 }, gate: { minVerifiedShare: 0, maxFailureRate: 0, minSoakHours: 0 }, deadlineDays: 0 },
  ],
  applyTimeoutMinutes: 1,
  silenceHours: 0.5,
  maxInstructionsPerTick: 1,
};
