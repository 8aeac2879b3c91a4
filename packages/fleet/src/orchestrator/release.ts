/** The releases the orchestrator rolls out: as given to planRollout, or as a rollout's plan recorded them. */
import type { RolloutEventData } from '@hotpatch/core';
import type { FleetProjection } from '../projection.js';

export interface ReleaseToRoll {
  readonly id: string;
  readonly kind: 'hotpatch' | 'baseline';
  readonly releasedAt: string;
  /** For a hotpatch: the baseline it applies on. For a baseline: itself. */
  readonly baseline: string;
  readonly requires?: readonly string[];
  readonly liveRevert: boolean;
  readonly outOfBand?: boolean;
  /** Why a baseline needs its reboot (default 'baseline'). */
  readonly rebootReason?: string;
  /**
   * For a hotpatch: the cumulative update that carries the same fix, installed with a restart (the traditional
   * update), which the devices that cannot take the hotpatch get instead: ineligible ones, and those not on its
   * baseline. Default `LCU-<id>`.
   */
  readonly cumulativeUpdate?: string;
  /**
   * For an out-of-band release: the regular release (Patch Tuesday) it ships after. The rings' deferrals count from
   * it, so a ring whose deferral has passed gets the release at once (expedited), the others on their usual date.
   * `deferralsFrom` in `@hotpatch/core` gives it from a catalog. Default: the release's own date.
   */
  readonly deferralsFrom?: string;
}

/**
 * The release a rollout's plan recorded, as `planRollout` takes it: what any instance needs to carry the rollout on
 * from the log alone. Plans written before they recorded a hotpatch's baseline and requires take them from
 * `fallback` (what the devices it was staged on say), or give undefined.
 */
export function releaseFromPlan(
  plan: RolloutEventData['RolloutPlanned'],
  fallback: { readonly baseline?: string; readonly requires?: readonly string[]; readonly rebootReason?: string } = {},
): ReleaseToRoll | undefined {
  const common = {
    id: plan.release,
    releasedAt: plan.releasedAt,
    liveRevert: plan.liveRevert,
    outOfBand: plan.outOfBand,
    ...(plan.deferralsFrom !== undefined ? { deferralsFrom: plan.deferralsFrom } : {}),
  };
  if (plan.releaseKind === 'baseline') return { ...common, kind: 'baseline', baseline: plan.baseline ?? plan.release, rebootReason: plan.rebootReason ?? fallback.rebootReason ?? 'baseline' };
  const baseline = plan.baseline ?? fallback.baseline;
  if (baseline === undefined) return undefined;
  return {
    ...common,
    kind: 'hotpatch',
    baseline,
    requires: plan.requires ?? fallback.requires ?? [],
    ...(plan.cumulativeUpdate !== undefined ? { cumulativeUpdate: plan.cumulativeUpdate } : {}),
  };
}

/**
 * What a device installs, with a restart, to be protected against a release without hotpatching: a baseline itself,
 * a hotpatch's cumulative update.
 */
/** What a device is given to stage of a hotpatch release (its id, baseline, prerequisites and live revert). */
export const hotpatchOf = (release: Pick<ReleaseToRoll, 'id' | 'baseline' | 'requires' | 'liveRevert'>) => ({ id: release.id, baseline: release.baseline, requires: release.requires ?? [], liveRevert: release.liveRevert });

export function cumulativeUpdateOf(release: Pick<ReleaseToRoll, 'id' | 'kind' | 'baseline' | 'cumulativeUpdate'>): string {
  return release.kind === 'baseline' ? release.baseline : (release.cumulativeUpdate ?? `LCU-${release.id}`);
}

/**
 * The releases an instance knows: those it was given (planRollout), and those the rollouts' plans recorded, so that
 * it carries on the rollouts another instance planned, and after a restart those it planned itself.
 */
export class Releases {
  private readonly byId = new Map<string, ReleaseToRoll>();
  /** By what a device installs with a restart to be protected against them (see cumulativeUpdateOf). */
  private readonly byInstall = new Map<string, ReleaseToRoll>();
  /** How many rollouts' plans were read (a projection only gains rollouts). */
  private plansRead = 0;

  know(release: ReleaseToRoll): void {
    this.byId.set(release.id, release);
    this.byInstall.set(cumulativeUpdateOf(release), release);
  }

  /** Learns the releases of the rollouts it was not given, once each. */
  learn(projection: FleetProjection): void {
    if (projection.rollouts.size === this.plansRead) return;
    for (const rollout of projection.rollouts.values()) {
      if (this.byId.has(rollout.id) || rollout.plan === null) continue;
      const release = releaseFromPlan(rollout.plan);
      if (release !== undefined) this.know(release);
    }
    this.plansRead = projection.rollouts.size;
  }

  /** A rollout's release: as given, or as its plan recorded it; undefined when neither says. */
  of(rollout: { readonly id: string; readonly plan: RolloutEventData['RolloutPlanned'] | null }): ReleaseToRoll | undefined {
    return this.byId.get(rollout.id) ?? (rollout.plan !== null ? releaseFromPlan(rollout.plan) : undefined);
  }

  get(id: string): ReleaseToRoll | undefined {
    return this.byId.get(id);
  }

  /** When the release a name stands for shipped: a release's id, or what a device installs for one. */
  releasedAt(name: string): string | undefined {
    return this.byId.get(name)?.releasedAt ?? this.byInstall.get(name)?.releasedAt;
  }

  /** When the release a device's installed baseline or cumulative update brings shipped; null when not known. */
  installedReleasedAt(context: { readonly baseline: string | null }): string | null {
    return context.baseline === null ? null : (this.byInstall.get(context.baseline)?.releasedAt ?? null);
  }
}
