/** A demo fleet: mostly eligible Windows 11 Enterprise devices, and a few that cannot take hotpatches. */
import type { DeviceProfile, Random } from '@hotpatch/core';

export interface DemoDevice {
  readonly id: string;
  readonly ring: 'pilot' | 'broad';
  readonly profile: DeviceProfile;
}

export function buildFleet(count: number, random: Random): DemoDevice[] {
  const width = Math.max(4, String(count).length);
  const devices: DemoDevice[] = [];
  for (let i = 1; i <= count; i++) {
    const arm = random.chance(0.12);
    let profile: DeviceProfile = {
      edition: random.pick(['Enterprise E3', 'Enterprise E5', 'Enterprise E3', 'Education A5']),
      build: `26100.${random.int(2000, 4000)}`,
      arch: arm ? 'arm64' : 'x64',
      vbs: true,
      tpm2: true,
      secureBoot: true,
      chpeDisabled: arm,
    };
    // A few devices that cannot take hotpatches, each for a different reason.
    if (i % 41 === 0) profile = { ...profile, edition: 'Pro' };
    else if (i % 53 === 0) profile = { ...profile, vbs: false };
    else if (i % 67 === 0) profile = { ...profile, arch: 'arm64', chpeDisabled: false };
    else if (i % 97 === 0) profile = { ...profile, build: '22631.4460' };
    devices.push({ id: `dev-${String(i).padStart(width, '0')}`, ring: i <= Math.ceil(count / 10) ? 'pilot' : 'broad', profile });
  }
  return devices;
}
