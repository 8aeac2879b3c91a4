/**
 * The comparison figures, computed from a simulated log alone: reboots per device per year, device downtime, days
 * exposed after release, rollbacks, devices needing attention.
 */
import { deviceStream, type HotpatchEvent } from '@hotpatch/core';
import { daysToProtection, FleetProjection, quantile } from '@hotpatch/fleet';

export interface ArmFigures {
  readonly devices: number;
  readonly months: number;
  readonly events: number;
  readonly reboots: number;
  readonly rebootsPerDevicePerYear: number;
  readonly downtimeHours: number;
  readonly downtimeHoursPerDevicePerYear: number;
  /** Over every (release, device protected at the end) pair: days from release to its current protection. */
  readonly medianDaysExposed: number | null;
  readonly p95DaysExposed: number | null;
  /** (release, device) pairs still exposed at the end. */
  readonly stillExposed: number;
  readonly rollbacks: number;
  readonly rollbackFailures: number;
  /** Cumulative updates taken off a device that was not well on them (each a restart). */
  readonly uninstalls: number;
  readonly haltedRollouts: string[];
  /**
   * Devices a person should look at: set aside by a rollout and still exposed to its release, stuck in needsReboot
   * or failed, or whose rollback failed.
   */
  readonly needingAttention: number;
}

export async function figuresFromLog(events: Iterable<HotpatchEvent> | AsyncIterable<HotpatchEvent>, months: number, at: string): Promise<ArmFigures> {
  return (await foldFigures(events, months, at)).figures;
}

/**
 * The counts the figures need, event by event, in log order (`add`); `figures` then reads the rest from the fleet
 * projection of the same events.
 */
export class FigureTally {
  private count = 0;
  private reboots = 0;
  private downtimeMinutes = 0;
  private rollbacks = 0;
  private rollbackFailures = 0;
  private uninstalls = 0;
  private readonly rollbackFailed = new Set<string>();

  add(e: HotpatchEvent): void {
    this.count++;
    if (e.type === 'BaselineInstalled') {
      this.reboots++;
      this.downtimeMinutes += Number((e.meta as { downtimeMinutes?: number } | undefined)?.downtimeMinutes ?? 0);
    } else if (e.type === 'PatchRolledBack') this.rollbacks++;
    else if (e.type === 'RebootRequired' && e.data.reason === 'update-uninstall') this.uninstalls++;
    else if (e.type === 'RollbackFailed') {
      this.rollbackFailures++;
      this.rollbackFailed.add(e.stream);
    }
  }

  /** The figures, from these counts and `projection`: the fleet projection of the same events, at `at`. */
  figures(projection: FleetProjection, months: number, at: string): ArmFigures {
    let devices = 0;
    let needingAttention = 0;
    // Set aside by a rollout (its agent silent) and still not protected against that rollout's release at the end: a
    // device whose agent came back and was caught up since needs no one.
    const setAside = new Set<string>();
    for (const r of projection.rollouts.values()) {
      const protectedNow = projection.releases.get(r.id)?.protectedSince;
      for (const [d, o] of r.outcomes) if (o === 'setAside' && !protectedNow?.has(d)) setAside.add(d);
    }
    for (const d of projection.devices.values()) {
      if (d.state.value === 'retired') continue;
      devices++;
      if (setAside.has(d.id) || d.state.value === 'needsReboot' || d.state.value === 'failed' || this.rollbackFailed.has(deviceStream(d.id))) needingAttention++;
    }
    const exposedDays: number[] = [];
    let stillExposed = 0;
    for (const release of projection.releases.values()) {
      if (release.releasedAt > at) continue;
      for (const t of release.protectedSince.values()) exposedDays.push(daysToProtection(release, t));
      stillExposed += devices - release.protectedSince.size;
    }
    exposedDays.sort((a, b) => a - b);
    const years = months / 12;
    return {
      devices,
      months,
      events: this.count,
      reboots: this.reboots,
      rebootsPerDevicePerYear: devices ? this.reboots / devices / years : 0,
      downtimeHours: this.downtimeMinutes / 60,
      downtimeHoursPerDevicePerYear: devices ? this.downtimeMinutes / 60 / devices / years : 0,
      medianDaysExposed: quantile(exposedDays, 0.5),
      p95DaysExposed: quantile(exposedDays, 0.95),
      stillExposed,
      rollbacks: this.rollbacks,
      rollbackFailures: this.rollbackFailures,
      uninstalls: this.uninstalls,
      haltedRollouts: [...projection.rollouts.values()].filter((r) => r.state.value === 'halted').map((r) => r.id),
      needingAttention,
    };
  }
}

/** The figures, and the fleet projection they were read from; `seen` is called after each event is folded. */
export async function foldFigures(
  events: Iterable<HotpatchEvent> | AsyncIterable<HotpatchEvent>,
  months: number,
  at: string,
  seen?: (event: HotpatchEvent, projection: FleetProjection) => void,
): Promise<{ figures: ArmFigures; projection: FleetProjection }> {
  const projection = new FleetProjection();
  const tally = new FigureTally();
  for await (const e of events) {
    projection.apply(e);
    seen?.(e, projection);
    tally.add(e);
  }
  return { figures: tally.figures(projection, months, at), projection };
}
