/** A simulated fleet with realistic attributes: editions, Arm64 with and without CHPE, some without VBS. */
import type { DeviceProfile, Random } from '@hotpatch/core';

export interface SimDevice {
  readonly id: string;
  readonly ring: string;
  readonly profile: DeviceProfile;
}

/** Ring sizes: the first ring `first` of the fleet (a pilot), a middle one ~20% if there are three, the rest in the last. */
function ringOf(i: number, n: number, rings: readonly string[], first: number): string {
  const share = i / n;
  if (rings.length === 1) return rings[0]!;
  if (share < first) return rings[0]!;
  if (rings.length >= 3 && share < first + 0.2) return rings[1]!;
  return rings[rings.length - 1]!;
}

export function buildSimFleet(n: number, rings: readonly string[], random: Random, firstRingShare = 0.05): SimDevice[] {
  const width = Math.max(5, String(n).length);
  const devices: SimDevice[] = [];
  for (let i = 0; i < n; i++) {
    const arm = random.chance(0.15);
    const roll = random.next();
    const profile: DeviceProfile = {
      edition: roll < 0.01 ? 'Pro' : random.pick(['Enterprise E3', 'Enterprise E5', 'Enterprise E3', 'Education A5', 'Business Premium']),
      build: random.chance(0.01) ? '22631.4460' : `26100.${random.int(2000, 4000)}`,
      arch: arm ? 'arm64' : 'x64',
      vbs: !random.chance(0.02),
      tpm2: !random.chance(0.003),
      secureBoot: !random.chance(0.005),
      // Most Arm64 devices have CHPE disabled for hotpatch; a fifth still have it on.
      chpeDisabled: arm ? !random.chance(0.2) : false,
    };
    devices.push({ id: `dev-${String(i + 1).padStart(width, '0')}`, ring: ringOf(i, n, rings, firstRingShare), profile });
  }
  return devices;
}
