/**
 * What the projection means for a person: each rollout's progress, each device's compliance in the terms
 * Autopatch uses (up to date, in progress, paused, not up to date, not ready, needs reboot), the fleet's share up
 * to date against a target, and each release's exposure (time from release to protection per device).
 */
import { rolloutProgress, type RolloutProgress } from '@hotpatch/core';
import type { FleetProjection, DeviceRecord, ReleaseRecord } from './projection.js';
import type { HealedRecord } from './projection/healed.js';

export type { RolloutProgress } from '@hotpatch/core';

export type Compliance = 'up to date' | 'in progress' | 'paused' | 'not up to date' | 'not ready' | 'needs reboot';
export const COMPLIANCE_ORDER: readonly Compliance[] = ['up to date', 'in progress', 'paused', 'not up to date', 'not ready', 'needs reboot'];

const IN_FLIGHT = new Set(['staged', 'applying', 'applied', 'failed', 'rollingBack']);

export interface ExposureFigures {
  readonly release: string;
  readonly kind: 'baseline' | 'hotpatch';
  readonly releasedAt: string;
  readonly protectedDevices: number;
  readonly stillExposed: number;
  /**
   * Days from release to protection over the devices protected now: to when their current protection began, so a
   * device that lost it and got it back counts until it got it back (see docs/domain.md, "Exposure").
   */
  readonly medianDays: number | null;
  readonly p95Days: number | null;
  readonly worstDays: number | null;
}

export interface FleetStatus {
  readonly at: string;
  readonly devices: number;
  readonly compliance: Record<Compliance, number>;
  readonly upToDateShare: number;
  readonly target: number;
  readonly meetsTarget: boolean;
  readonly rollouts: RolloutProgress[];
  readonly exposure: ExposureFigures[];
  /** Devices set aside by rollouts (their agents stopped reporting), to look at. */
  readonly setAside: string[];
  /** Rings paused now (whatever the release): who holds each and why, and since when. */
  readonly pausedRings: ReadonlyArray<{ readonly ring: string; readonly since: string; readonly holds: ReadonlyArray<{ readonly by: 'service' | 'tenant'; readonly reason: string }> }>;
  /**
   * Instructions a unit of work cut short between its appends (a process killed, a store without transactions) that
   * a later tick carried on: each device, its rollout, the gap and when it was healed, in that order (see the fleet
   * README, "Healing").
   */
  readonly healed: readonly HealedRecord[];
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Days from a release to a device's protection against it, given when its current protection began (0 for a
 * device that ran a newer fix when the release came out).
 */
export function daysToProtection(release: ReleaseRecord, since: string): number {
  return Math.max(0, Date.parse(since) - Date.parse(release.releasedAt)) / 86_400_000;
}

export function complianceOf(p: FleetProjection, device: DeviceRecord, latestRelease: string | null): Compliance {
  const { value } = device.state;
  if (value === 'needsReboot') return 'needs reboot';
  const current = latestRelease !== null && device.protectedUpTo !== null && device.protectedUpTo >= latestRelease;
  // A device that cannot take hotpatches is up to date on the latest cumulative update (installed with a restart).
  if (value === 'ineligible' && current) return 'up to date';
  if (value === 'ineligible' || value === 'enrolled' || value === 'unenrolled') return 'not ready';
  if (current) return 'up to date';
  // Its ring paused (whatever the release): waiting for the pause to be lifted, unless something is in flight.
  if (p.isRingPaused(device.ring) && !IN_FLIGHT.has(value)) return 'paused';
  for (const rollout of p.rollouts.values()) {
    const active = rollout.state.value === 'rolling' || rollout.state.value === 'betweenRings' || rollout.state.value === 'paused';
    if (!active) continue;
    const pending = !rollout.outcomes.has(device.id);
    if (rollout.state.value === 'paused' && pending) return 'paused';
    if (rollout.instructed.has(device.id) && pending) return 'in progress';
  }
  if (IN_FLIGHT.has(value)) return 'in progress';
  return 'not up to date';
}

/**
 * A rollout's progress with the size of each ring it has not started: the ring's devices now (the rollout's own
 * events count a ring's devices only when it starts). A ring started keeps the count its start recorded.
 */
export function withRingSizes(p: FleetProjection, progress: RolloutProgress): RolloutProgress {
  return { ...progress, rings: progress.rings.map((g) => (g.size !== null ? g : { ...g, size: p.liveRingMembers(g.name).length })) };
}

export function fleetStatus(p: FleetProjection, at: string, target = 0.95): FleetStatus {
  const released = [...p.releases.values()].filter((r) => r.releasedAt <= at).sort((a, b) => (a.releasedAt < b.releasedAt ? -1 : 1));
  const latest = released.at(-1)?.releasedAt ?? null;
  const compliance = Object.fromEntries(COMPLIANCE_ORDER.map((c) => [c, 0])) as Record<Compliance, number>;
  let devices = 0;
  const live: DeviceRecord[] = [];
  for (const d of p.devices.values()) {
    if (d.state.value === 'retired' || d.state.value === 'unenrolled') continue;
    devices++;
    live.push(d);
    compliance[complianceOf(p, d, latest)]++;
  }
  const upToDateShare = devices === 0 ? 0 : compliance['up to date'] / devices;
  const rollouts: RolloutProgress[] = [...p.rollouts.values()].map((r) => withRingSizes(p, rolloutProgress(r.id, r.state)));
  const exposure = released.map((r): ExposureFigures => {
    const days = [...r.protectedSince.values()].map((t) => daysToProtection(r, t)).sort((a, b) => a - b);
    const exposed = live.filter((d) => !r.protectedSince.has(d.id)).length;
    return { release: r.id, kind: r.kind, releasedAt: r.releasedAt, protectedDevices: days.length, stillExposed: exposed, medianDays: quantile(days, 0.5), p95Days: quantile(days, 0.95), worstDays: days.at(-1) ?? null };
  });
  const setAside = [...p.rollouts.values()].flatMap((r) => [...r.outcomes].filter(([, o]) => o === 'setAside').map(([d]) => d));
  const pausedRings = [...p.ringPauses.values()]
    .filter((r) => r.state.value === 'paused')
    .map((r) => ({ ring: r.ring, since: r.pauses.at(-1)![0], holds: r.state.context.holds }))
    .sort((a, b) => compareText(a.ring, b.ring));
  const healed = [...p.healed.values()].sort((a, b) => compareText(a.at, b.at) || compareText(a.rollout, b.rollout) || compareText(a.device, b.device));
  return { at, devices, compliance, upToDateShare, target, meetsTarget: upToDateShare >= target, rollouts, exposure, setAside: [...new Set(setAside)].sort(), pausedRings, healed };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
