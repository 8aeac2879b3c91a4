import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, PolicyError, validatePolicy } from './index.js';

describe('validatePolicy', () => {
  it('takes the default policy, and one that says what to do after a failed hotpatch', () => {
    expect(validatePolicy(JSON.parse(JSON.stringify(DEFAULT_POLICY)))).toEqual(DEFAULT_POLICY);
    for (const afterFailedHotpatch of ['cumulative-update', 'next-release']) expect(validatePolicy({ ...DEFAULT_POLICY, afterFailedHotpatch }).afterFailedHotpatch).toBe(afterFailedHotpatch);
  });

  it('names the first problem, where the policy came from', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /^p\.json: expected a JSON object$/],
      [{ ...DEFAULT_POLICY, rings: [] }, /rings: expected a non-empty array/],
      [{ ...DEFAULT_POLICY, rings: [DEFAULT_POLICY.rings[0], DEFAULT_POLICY.rings[0]] }, /rings\[1\]\.name: pilot appears twice/],
      [{ ...DEFAULT_POLICY, silenceHours: 0 }, /silenceHours: expected a number > 0/],
      [{ ...DEFAULT_POLICY, maxInstructionsPerTick: 0.5 }, /maxInstructionsPerTick: expected a whole number ≥ 1/],
      [{ ...DEFAULT_POLICY, afterFailedHotpatch: 'reboot' }, /afterFailedHotpatch: expected "cumulative-update" or "next-release", got "reboot"/],
    ];
    for (const [value, message] of cases) {
      expect(() => validatePolicy(value, 'p.json')).toThrow(PolicyError);
      expect(() => validatePolicy(value, 'p.json')).toThrow(message);
    }
  });
});
