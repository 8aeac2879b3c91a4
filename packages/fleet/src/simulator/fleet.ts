/** A simulated fleet with realistic attributes: editions, Arm64 with and without CHPE, some without VBS. */
import type { DeviceProfile, Random } from '@hotpatch/core';

export interface SimDevice {
  readonly id: string;
  readonly ring: string;
  readonly profile: DeviceProfile;
}

/** Ring sizes: the first ring ~5% (a pilot), a middle one ~20% if there are three, the rest in the last. */
function ringOf(i: number, n: number, rings: readonly string[]): string {
  const share = i / n;
  if (rings.length === 1) return rings[0]!;
  if (share < 0.05) return rings[0]!;
  if (rings.length >= 3 && share < 0.25) return rings[1]!;
  return rings[rings.length - 1]!;
}

export function buildSimFleet(n: number, rings: readonly string[], random: Random): SimDevice[] {
  const width = Math.max(5, String(n).length);
  const devices: SimDevice[] = [];
  for (let i = 0; i < n; i++) {
    const arm = random.chance(0.15);
    const roll = random.next();
    const profile: DeviceProfile = {
      edition: roll < 0.02 ? 'Pro' : random.pick(['Enterprise E3', 'Enterprise E5', 'Enterprise E3', 'Education A5', 'Business Premium']),
      build: random.chance(0.02) ? '22631.4460' : `26100.${random.int(2000, 4000)}`,
      arch: arm ? 'arm64' : 'x64',
      vbs: !random.chance(0.03),
      tpm2: !random.chance(0.005),
      secureBoot: !random.chance(0.01),
      // Most Arm64 devices have CHPE disabled for hotpatch; a quarter still have it on.
      chpeDisabled: arm ? !random.chance(0.25) : false,
    };
    devices.push({ id: `d${String(i + 1).padStart(width, '0')}`, ring: ringOf(i, n, rings), profile });
  }
  return devices;
}
