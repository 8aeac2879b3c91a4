/**
 * The demo's story: one quarter of releases over a fleet, driven through the command layer into a store.
 * January's baseline restarts every device; February's hotpatch fails its health check on some devices and is
 * rolled back live; March's hotpatch cannot be reverted live, so its failures need reboots. Devices that are not
 * eligible get the traditional monthly update with a restart instead.
 */
import { planReleases, type DeviceCommand, type HotpatchRelease, type Random } from '@hotpatch/core';
import type { Engine } from '@hotpatch/engine';
import type { DemoDevice } from './fleet.js';

export interface SimulatedClock {
  now(): Date;
  /** Moves to `iso` if it is later than now. */
  jumpTo(iso: string): void;
  /** Moves forward by `seconds`. */
  advance(seconds: number): void;
}

export function simulatedClock(startIso: string): SimulatedClock {
  let ms = Date.parse(startIso);
  return {
    now: () => new Date(ms),
    jumpTo: (iso) => {
      ms = Math.max(ms, Date.parse(iso));
    },
    advance: (seconds) => {
      ms += Math.round(seconds * 1000);
    },
  };
}

export const DEMO_QUARTER = planReleases({ from: '2026-01', months: 3, notLiveRevertible: ['HP-2026-03'] });
const PREVIOUS_BASELINE = 'B-2025-10';

/** Devices whose February health check fails (about 1 in 9), and whose March apply fails (about 1 in 25). */
export interface DemoFaults {
  readonly februaryHealthFailure: number;
  readonly februaryRollbackFailure: number;
  readonly marchApplyFailure: number;
  readonly retired: number;
}

export const DEFAULT_FAULTS: DemoFaults = { februaryHealthFailure: 0.11, februaryRollbackFailure: 0.12, marchApplyFailure: 0.04, retired: 0.01 };

export async function runQuarter(engine: Engine, devices: readonly DemoDevice[], clock: SimulatedClock, random: Random, faults: DemoFaults = DEFAULT_FAULTS) {
  const [baseline, february, march] = DEMO_QUARTER.releases as [{ id: string; released: string }, HotpatchRelease, HotpatchRelease];
  const run = async (command: DeviceCommand) => {
    clock.advance(random.int(1, 30));
    return engine.execute(command);
  };
  const stateOf = async (id: string) => (await engine.load(id)).state;

  // Enrolment on last quarter's baseline, and a first assessment.
  clock.jumpTo('2026-01-05T08:00:00.000Z');
  for (const d of devices) await run({ type: 'EnrolDevice', device: d.id, profile: d.profile, ring: d.ring, baseline: PREVIOUS_BASELINE });
  for (const d of devices) await run({ type: 'AssessEligibility', device: d.id, latestBaseline: PREVIOUS_BASELINE });

  // January: the quarterly baseline needs a restart everywhere.
  clock.jumpTo(baseline.released);
  for (const d of devices) await run({ type: 'RequireReboot', device: d.id, reason: 'baseline', baseline: baseline.id });
  clock.advance(6 * 3600);
  for (const d of devices) await run({ type: 'ReportBaselineInstalled', device: d.id, baseline: baseline.id });
  for (const d of devices) await run({ type: 'AssessEligibility', device: d.id, latestBaseline: baseline.id });

  const traditionalUpdate = async (d: DemoDevice) => {
    await run({ type: 'RequireReboot', device: d.id, reason: 'eligibility', baseline: baseline.id });
    await run({ type: 'ReportBaselineInstalled', device: d.id, baseline: baseline.id });
  };

  // February: a live-revertible hotpatch; its health check fails on some devices, which roll back live.
  clock.jumpTo(february.released);
  for (const d of devices) {
    const state = await stateOf(d.id);
    if (state.value === 'ineligible') {
      await traditionalUpdate(d);
      continue;
    }
    if (state.value !== 'current') continue;
    await run({ type: 'StagePatch', device: d.id, hotpatch: february });
    await run({ type: 'StartApply', device: d.id, patch: february.id });
    await run({ type: 'ReportApplied', device: d.id, patch: february.id });
    if (!random.chance(faults.februaryHealthFailure)) {
      await run({ type: 'ReportHealth', device: d.id, patch: february.id, healthy: true });
      continue;
    }
    await run({ type: 'ReportHealth', device: d.id, patch: february.id, healthy: false, signal: 'crash rate above baseline (lsass.exe)' });
    if (random.chance(faults.februaryRollbackFailure)) {
      await run({ type: 'ReportRollbackFailed', device: d.id, patch: february.id, reason: 'patched function still on a task stack' });
      await run({ type: 'ReportBaselineInstalled', device: d.id, baseline: baseline.id });
    } else {
      await run({ type: 'ReportRolledBack', device: d.id, patch: february.id });
    }
  }

  // March: a hotpatch that cannot be reverted live; an apply failure needs a reboot.
  clock.jumpTo(march.released);
  for (const d of devices) {
    const state = await stateOf(d.id);
    if (state.value === 'ineligible') {
      await traditionalUpdate(d);
      continue;
    }
    if (!['current', 'verified', 'rolledBack'].includes(state.value)) continue;
    await run({ type: 'StagePatch', device: d.id, hotpatch: march });
    await run({ type: 'StartApply', device: d.id, patch: march.id });
    if (random.chance(faults.marchApplyFailure)) {
      await run({ type: 'ReportApplyFailed', device: d.id, patch: march.id, reason: 'transition stalled: task blocked in patched function' });
      await run({ type: 'ReportBaselineInstalled', device: d.id, baseline: baseline.id });
      continue;
    }
    await run({ type: 'ReportApplied', device: d.id, patch: march.id });
    await run({ type: 'ReportHealth', device: d.id, patch: march.id, healthy: true });
  }

  // A few devices leave the fleet at the end of the quarter.
  clock.jumpTo('2026-03-30T12:00:00.000Z');
  for (const d of devices) if (random.chance(faults.retired)) await run({ type: 'RetireDevice', device: d.id });

  return { releases: DEMO_QUARTER.releases };
}
