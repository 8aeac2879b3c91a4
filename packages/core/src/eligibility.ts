/**
 * Hotpatch eligibility, as a pure function of what a device reports and the release calendar. Sources: Windows
 * Autopatch hotpatch docs (editions, 24H2+, VBS, Arm64 CHPE, latest baseline), Windows Server docs (Secure Boot,
 * build 26100.1742+ for Server 2025 via Arc) and the seed (TPM 2.0). See ../../../docs/domain.md.
 */
import type { DeviceProfile } from './device/events.js';

export type IneligibilityCode = 'edition' | 'build' | 'vbs' | 'tpm2' | 'secure-boot' | 'chpe' | 'baseline';

export interface Ineligibility {
  readonly code: IneligibilityCode;
  readonly message: string;
}

export type EligibilityResult = { readonly eligible: true } | { readonly eligible: false; readonly reasons: readonly Ineligibility[] };

/** Editions licensed for hotpatch, with the minimum build each needs. */
export const ELIGIBLE_EDITIONS: Readonly<Record<string, string>> = {
  'Enterprise E3': '26100.0',
  'Enterprise E5': '26100.0',
  'Enterprise F3': '26100.0',
  'Education A3': '26100.0',
  'Education A5': '26100.0',
  'Business Premium': '26100.0',
  'Windows 365 Enterprise': '26100.0',
  'Server 2022 Datacenter: Azure Edition': '20348.0',
  'Server 2025 Datacenter: Azure Edition': '26100.0',
  'Server 2025 Datacenter (Arc)': '26100.1742',
};

function compareBuilds(a: string, b: string): number {
  const [am = 0, ar = 0] = a.split('.').map(Number);
  const [bm = 0, br = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : ar - br;
}

export interface EligibilityInput {
  readonly profile: DeviceProfile;
  /** The baseline the device has installed. */
  readonly baseline: string;
  /** The newest baseline released; a device must be on it to receive hotpatches. */
  readonly latestBaseline: string;
}

export function assessEligibility({ profile, baseline, latestBaseline }: EligibilityInput): EligibilityResult {
  const reasons: Ineligibility[] = [];
  const minimumBuild = ELIGIBLE_EDITIONS[profile.edition];
  if (minimumBuild === undefined) {
    reasons.push({ code: 'edition', message: `edition ${profile.edition} is not licensed for hotpatch` });
  } else if (!/^\d+(\.\d+)?$/.test(profile.build) || compareBuilds(profile.build, minimumBuild) < 0) {
    reasons.push({ code: 'build', message: `build ${profile.build} is older than ${minimumBuild}` });
  }
  if (!profile.vbs) reasons.push({ code: 'vbs', message: 'virtualization-based security is not running' });
  if (!profile.tpm2) reasons.push({ code: 'tpm2', message: 'no TPM 2.0' });
  if (!profile.secureBoot) reasons.push({ code: 'secure-boot', message: 'Secure Boot is off' });
  if (profile.arch === 'arm64' && !profile.chpeDisabled) {
    reasons.push({ code: 'chpe', message: 'Arm64 with CHPE enabled (disabling it needs a restart)' });
  }
  if (baseline !== latestBaseline) reasons.push({ code: 'baseline', message: `on baseline ${baseline}, not the latest (${latestBaseline})` });
  return reasons.length === 0 ? { eligible: true } : { eligible: false, reasons };
}

/** The reasons as they travel in an EligibilityAssessed event: "code: message". */
export function reasonStrings(result: EligibilityResult): string[] {
  return result.eligible ? [] : result.reasons.map((r) => `${r.code}: ${r.message}`);
}
