import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ROLLOUT_STREAMS, validateEventData } from '@hotpatch/core';
import { retyped, rings } from '@hotpatch/core/testing';
import { DEFAULT_POLICY, PolicyError, validatePolicy, type FleetPolicy } from './index.js';

describe('validatePolicy', () => {
  it('takes the default policy, and one that says what to do after a failed hotpatch', () => {
    expect(validatePolicy(JSON.parse(JSON.stringify(DEFAULT_POLICY)))).toEqual(DEFAULT_POLICY);
    // An editor's pointer to the published schema is allowed.
    expect(validatePolicy({ $schema: '../docs/schemas/policy.schema.json', ...DEFAULT_POLICY }).rings).toEqual(DEFAULT_POLICY.rings);
    for (const afterFailedHotpatch of ['cumulative-update', 'next-release']) expect(validatePolicy({ ...DEFAULT_POLICY, afterFailedHotpatch }).afterFailedHotpatch).toBe(afterFailedHotpatch);
  });

  it('names the first problem, where the policy came from', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /^p\.json: expected an object \{rings, applyTimeoutMinutes, silenceHours, maxInstructionsPerTick, afterFailedHotpatch\}, got null$/],
      [{ ...DEFAULT_POLICY, rings: [] }, /rings: expected a non-empty array/],
      [{ ...DEFAULT_POLICY, rings: [DEFAULT_POLICY.rings[0], DEFAULT_POLICY.rings[0]] }, /^p\.json: rings\[1\]\.name: pilot appears twice$/],
      [{ ...DEFAULT_POLICY, silenceHours: 0 }, /silenceHours: expected a number > 0/],
      [{ ...DEFAULT_POLICY, maxInstructionsPerTick: 0.5 }, /maxInstructionsPerTick: expected a whole number ≥ 1/],
      [{ ...DEFAULT_POLICY, afterFailedHotpatch: 'reboot' }, /afterFailedHotpatch: expected one of "cumulative-update", "next-release", got "reboot"/],
      // A misspelt optional field is not silently ignored, in the policy, a ring or its gate.
      [{ ...DEFAULT_POLICY, maxInstructionPerTick: 5 }, /^p\.json: maxInstructionPerTick: unknown field; known: rings, applyTimeoutMinutes, silenceHours, maxInstructionsPerTick, afterFailedHotpatch$/],
      [{ ...DEFAULT_POLICY, rings: [{ ...DEFAULT_POLICY.rings[0]!, deferalDays: 1 }] }, /^p\.json: rings\[0\]\.deferalDays: unknown field/],
      [{ ...DEFAULT_POLICY, rings: [{ ...DEFAULT_POLICY.rings[0]!, gate: { ...DEFAULT_POLICY.rings[0]!.gate, soakHours: 1 } }] }, /^p\.json: rings\[0\]\.gate\.soakHours: unknown field/],
      [{ ...DEFAULT_POLICY, rings: [{ ...DEFAULT_POLICY.rings[0]!, budget: { percent: 5, cuont: 2 } }] }, /^p\.json: rings\[0\]\.budget/],
      // Figures that would overflow the dates they are added to (1e300 days used to end in an internal error).
      [{ ...DEFAULT_POLICY, rings: [{ ...DEFAULT_POLICY.rings[0]!, deferralDays: 1e300 }] }, /^p\.json: rings\[0\]\.deferralDays: expected a number from 0 to 3650/],
      [{ ...DEFAULT_POLICY, silenceHours: 1e9 }, /^p\.json: silenceHours: expected a number/],
      [{ ...DEFAULT_POLICY, rings: [{ ...DEFAULT_POLICY.rings[0]!, gate: { ...DEFAULT_POLICY.rings[0]!.gate, maxSetAsideShare: 1.5 } }] }, /^p\.json: rings\[0\]\.gate\.maxSetAsideShare: expected a number from 0 to 1/],
      [{ ...DEFAULT_POLICY, rings: [{ ...DEFAULT_POLICY.rings[0]!, gate: { ...DEFAULT_POLICY.rings[0]!.gate, maxSetAsideShare: '20%' } }] }, /^p\.json: rings\[0\]\.gate\.maxSetAsideShare: expected a number/],
    ];
    for (const [value, message] of cases) {
      expect(() => validatePolicy(value, 'p.json')).toThrow(PolicyError);
      expect(() => validatePolicy(value, 'p.json')).toThrow(message);
    }
  });
});

describe('one schema for a ring, in a policy and in a rollout plan', () => {
  const plan = (rings: unknown) => ({ release: 'HP-2026-02', releaseKind: 'hotpatch', releasedAt: '2026-02-10T17:00:00.000Z', liveRevert: true, outOfBand: false, rings });
  const planAccepts = (rings: unknown) => {
    try {
      validateEventData(ROLLOUT_STREAMS, 'RolloutPlanned', plan(rings), {});
      return true;
    } catch {
      return false;
    }
  };
  const policyAccepts = (rings: unknown) => {
    try {
      validatePolicy({ ...DEFAULT_POLICY, rings });
      return true;
    } catch {
      return false;
    }
  };

  it('refuses a failure rate above 1 up front, naming its path (planRollout used to be the first to refuse it)', () => {
    const rings = [{ ...DEFAULT_POLICY.rings[0]!, gate: { ...DEFAULT_POLICY.rings[0]!.gate, maxFailureRate: 5 } }];
    const error = (() => {
      try {
        validatePolicy({ ...DEFAULT_POLICY, rings }, 'p.json');
      } catch (e) {
        return e as PolicyError;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(PolicyError);
    expect({ source: error.source, path: error.path, problem: error.problem, code: error.code }).toEqual({
      source: 'p.json',
      path: 'rings[0].gate.maxFailureRate',
      problem: 'expected a number from 0 to 1, got number 5',
      code: 'INVALID_POLICY',
    });
    expect(planAccepts(rings)).toBe(false);
  });

  const policy: fc.Arbitrary<FleetPolicy> = fc.record(
    {
      rings,
      applyTimeoutMinutes: fc.double({ min: 0.001, max: 525_600, noNaN: true }),
      silenceHours: fc.integer({ min: 1, max: 1000 }),
      maxInstructionsPerTick: fc.integer({ min: 1, max: 1000 }),
      afterFailedHotpatch: fc.constantFrom('cumulative-update' as const, 'next-release' as const),
    },
    { requiredKeys: ['rings', 'applyTimeoutMinutes', 'silenceHours'] },
  );

  it('every policy the TypeScript type allows is accepted; one with a field of another JSON type is refused (fast-check)', () => {
    fc.assert(
      fc.property(policy, (p) => {
        expect(validatePolicy(JSON.parse(JSON.stringify(p)))).toEqual(p);
      }),
      { seed: 20261207, numRuns: 500 },
    );
    fc.assert(
      fc.property(retyped(policy), (p) => {
        expect(() => validatePolicy(p)).toThrow(PolicyError);
      }),
      { seed: 20261210, numRuns: 500 },
    );
  });

  it('a policy accepts exactly the rings a rollout plan accepts, valid or changed (fast-check)', () => {
    const changed = fc.tuple(rings, fc.nat(), fc.constantFrom('name', 'deferralDays', 'budget', 'gate', 'deadlineDays', 'count', 'percent', 'maxFailureRate', 'minVerifiedShare', 'minSoakHours'), fc.jsonValue({ maxDepth: 1 }), fc.boolean()).map(([rs, pick, key, json, dup]) => {
      const list: Record<string, unknown>[] = rs.map((r) => ({ ...r, gate: { ...r.gate }, budget: { ...r.budget } }));
      const ring = list[pick % list.length]!;
      if (['count', 'percent'].includes(key)) (ring.budget as Record<string, unknown>)[key] = json;
      else if (['maxFailureRate', 'minVerifiedShare', 'minSoakHours'].includes(key)) (ring.gate as Record<string, unknown>)[key] = json;
      else ring[key] = json;
      return dup ? [...list, list[0]] : list;
    });
    fc.assert(
      fc.property(fc.oneof(rings, changed), (rs) => {
        expect(policyAccepts(rs)).toBe(planAccepts(rs));
      }),
      { seed: 20261208, numRuns: 2000 },
    );
  });
});

describe('a logged plan keeps what a policy refuses', () => {
  it('a RolloutPlanned whose ring carries an extra field (written by an earlier build) is still a valid event', () => {
    const ring = { ...DEFAULT_POLICY.rings[0]!, color: 'blue', gate: { ...DEFAULT_POLICY.rings[0]!.gate, note: 'x' }, budget: { percent: 5, note: 'y' } };
    const data = { release: 'HP-2026-02', releaseKind: 'hotpatch', releasedAt: '2026-02-10T17:00:00.000Z', liveRevert: true, outOfBand: false, rings: [ring] };
    expect(() => validateEventData(ROLLOUT_STREAMS, 'RolloutPlanned', data, {})).not.toThrow();
    expect(() => validatePolicy({ ...DEFAULT_POLICY, rings: [{ ...DEFAULT_POLICY.rings[0]!, color: 'blue' }] }, 'p.json')).toThrow(/rings\[0\]\.color: unknown field/);
  });
});
