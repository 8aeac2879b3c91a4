// Generates a valid fleet timeline for benchmarks: `events` events over `devices` devices, interleaved, every
// device following its lifecycle (hotpatches applied, verified, failing and rolled back, reboots to new
// baselines), deterministic for a seed.
import { deviceLifecycle, seededRandom } from '@hotpatch/core';
import { v7 as uuidv7 } from 'uuid';

const profile = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };

/** The next event a device's agent and service would produce, given its state. */
function next(state, device, random) {
  const c = state.context;
  switch (state.value) {
    case 'unenrolled':
      return { type: 'DeviceEnrolled', data: { ...profile, ring: random.chance(0.1) ? 'pilot' : 'broad', baseline: 'B-1' } };
    case 'enrolled':
    case 'ineligible':
      return { type: 'EligibilityAssessed', data: random.chance(0.95) ? { eligible: true, reasons: [] } : { eligible: false, reasons: ['vbs: off'] } };
    case 'current':
    case 'verified':
    case 'rolledBack': {
      const r = random.next();
      // As in a real quarter: two or three hotpatches on a baseline, then the next baseline with a restart.
      if (r < 0.04 || Object.keys(c.applied).length >= 3) return { type: 'RebootRequired', data: { reason: 'baseline', baseline: `B-${Number(c.baseline.slice(2)) + 1}` } };
      if (r < 0.08) return { type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } };
      device.patches++;
      return { type: 'PatchStaged', data: { patch: `HP-${c.baseline.slice(2)}-${device.patches}`, baseline: c.baseline, requires: [], liveRevert: random.chance(0.8) } };
    }
    case 'staged':
      return { type: 'PatchApplyStarted', data: { patch: c.inFlight.patch } };
    case 'applying':
      return random.chance(0.96) ? { type: 'PatchApplied', data: { patch: c.inFlight.patch } } : { type: 'PatchApplyFailed', data: { patch: c.inFlight.patch, reason: 'stalled' } };
    case 'applied':
      return random.chance(0.92) ? { type: 'PatchVerified', data: { patch: c.inFlight.patch } } : { type: 'HealthCheckFailed', data: { patch: c.inFlight.patch, signal: 'crash rate' } };
    case 'failed':
      return c.inFlight.liveRevert ? { type: 'RollbackStarted', data: { patch: c.inFlight.patch, reason: 'failed' } } : { type: 'RebootRequired', data: { reason: 'not-live-revertible' } };
    case 'rollingBack':
      return random.chance(0.95) ? { type: 'PatchRolledBack', data: { patch: c.inFlight.patch } } : { type: 'RollbackFailed', data: { patch: c.inFlight.patch, reason: 'stuck' } };
    case 'needsReboot':
      return { type: 'BaselineInstalled', data: { baseline: c.rebootBaseline ?? c.baseline } };
    default:
      throw new Error(`no next event from ${state.value}`);
  }
}

export function generateTimeline({ events: count, devices: deviceCount, seed }) {
  const random = seededRandom(seed);
  const devices = Array.from({ length: deviceCount }, (_, i) => ({ stream: `device/dev-${String(i + 1).padStart(6, '0')}`, state: deviceLifecycle.initial, version: 0, patches: 0 }));
  const start = Date.parse('2026-01-05T08:00:00.000Z');
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    // The first pass enrols every device; afterwards devices act in random order.
    const device = i < deviceCount ? devices[i] : devices[random.int(0, deviceCount - 1)];
    const body = next(device.state, device, random);
    device.state = deviceLifecycle.evolve(device.state, body);
    device.version++;
    const ms = start + i * 1000;
    out[i] = { id: uuidv7({ msecs: ms, random: random.bytes16() }), stream: device.stream, version: device.version, type: body.type, time: new Date(ms).toISOString(), data: body.data, position: i + 1 };
  }
  return out;
}
