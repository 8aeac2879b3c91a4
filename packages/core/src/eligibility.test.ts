import { describe, expect, it } from 'vitest';
import { assessEligibility, reasonStrings } from './eligibility.js';
import type { DeviceProfile } from './device/events.js';

const ok: DeviceProfile = { edition: 'Enterprise E5', build: '26100.1742', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const codes = (profile: Partial<DeviceProfile>, baseline = 'B2') => {
  const r = assessEligibility({ profile: { ...ok, ...profile }, baseline, latestBaseline: 'B2' });
  return r.eligible ? [] : r.reasons.map((x) => x.code);
};

describe('hotpatch eligibility', () => {
  it('an Enterprise 24H2 device with VBS, TPM 2.0 and Secure Boot on the latest baseline is eligible', () => {
    expect(assessEligibility({ profile: ok, baseline: 'B2', latestBaseline: 'B2' })).toEqual({ eligible: true });
    expect(codes({ arch: 'arm64', chpeDisabled: true })).toEqual([]);
  });

  it.each([
    ['an unlicensed edition', { edition: 'Pro' }, ['edition']],
    ['a build before 24H2', { build: '22631.4460' }, ['build']],
    ['VBS not running', { vbs: false }, ['vbs']],
    ['no TPM 2.0', { tpm2: false }, ['tpm2']],
    ['Secure Boot off', { secureBoot: false }, ['secure-boot']],
    ['Arm64 with CHPE enabled', { arch: 'arm64' as const, chpeDisabled: false }, ['chpe']],
    ['Server 2025 via Arc below 26100.1742', { edition: 'Server 2025 Datacenter (Arc)', build: '26100.1000' }, ['build']],
  ])('is not eligible with %s', (_what, profile, expected) => {
    expect(codes(profile)).toEqual(expected);
  });

  it('requires the latest baseline, and lists every reason at once', () => {
    expect(codes({}, 'B1')).toEqual(['baseline']);
    expect(codes({ vbs: false, tpm2: false, secureBoot: false }, 'B1')).toEqual(['vbs', 'tpm2', 'secure-boot', 'baseline']);
    const r = assessEligibility({ profile: { ...ok, vbs: false }, baseline: 'B1', latestBaseline: 'B2' });
    expect(reasonStrings(r)).toEqual(['vbs: virtualization-based security is not running', 'baseline: on baseline B1, not the latest (B2)']);
  });
});
