import { ROLLOUT_STREAM_PREFIX, type RolloutState } from '@hotpatch/core';
import type { StreamState } from './device-view.js';

/** One ring of a rollout as replay reports it. */
export interface RingView {
  readonly name: string;
  /** Devices in the ring (0 until it starts). */
  readonly size: number;
  /** Failures it tolerates (0 until it starts). */
  readonly budget: number;
  readonly started: boolean;
  readonly inFlight: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly setAside: number;
  readonly gatePassed: boolean;
}

/** What replay reports about one rollout: the shape of `hotpatch history --rollout ID --json`'s states. */
export interface RolloutView {
  readonly rollout: string;
  readonly state: string;
  readonly release: string | null;
  /** The ring in progress (or the next, between rings); null before the first. */
  readonly ring: string | null;
  readonly rings: RingView[];
  /** Who holds it paused (tenant, service). */
  readonly pausedBy: string[];
  readonly haltReason: string | null;
  readonly version: number;
  readonly time: string;
}

export function toRolloutView(s: StreamState): RolloutView {
  const { value, context } = s.state as RolloutState;
  return {
    rollout: s.stream.startsWith(ROLLOUT_STREAM_PREFIX) ? s.stream.slice(ROLLOUT_STREAM_PREFIX.length) : s.stream,
    state: value,
    release: context.release,
    ring: context.policies[context.current]?.name ?? null,
    rings: context.policies.map((policy, i) => {
      const r = context.rings[i];
      return {
        name: policy.name,
        size: r?.size ?? 0,
        budget: r?.budget ?? 0,
        started: r?.startedAt != null,
        inFlight: r?.inFlight ?? 0,
        succeeded: r?.succeeded ?? 0,
        failed: r?.failed ?? 0,
        setAside: r?.setAside ?? 0,
        gatePassed: r?.gatePassed ?? false,
      };
    }),
    pausedBy: [...context.pausedBy],
    haltReason: context.haltReason,
    version: s.version,
    time: s.time,
  };
}

/**
 * What an event changed in a rollout, for a person: the ring counters that moved, a gate passed, a pause, a halt
 * and its reason. Empty when nothing a person reads changed.
 */
export function rolloutChanges(before: RolloutView | null, after: RolloutView): string[] {
  const changes: string[] = [];
  if (before?.release !== after.release && after.release !== null) changes.push(`release ${after.release}`);
  after.rings.forEach((ring, i) => {
    const was = before?.rings[i];
    if (ring.started && !was?.started) changes.push(`${ring.name} started: ${ring.size} devices, budget ${ring.budget}`);
    const moved = (['inFlight', 'succeeded', 'failed', 'setAside'] as const)
      .filter((k) => (was?.[k] ?? 0) !== ring[k])
      .map((k) => `${k === 'inFlight' ? 'in flight' : k === 'setAside' ? 'set aside' : k} ${was?.[k] ?? 0}→${ring[k]}`);
    if (moved.length > 0) changes.push(`${ring.name}: ${moved.join(', ')}${moved.some((m) => m.startsWith('failed')) ? ` (budget ${ring.budget})` : ''}`);
    if (ring.gatePassed && !was?.gatePassed) changes.push(`${ring.name}: gate passed`);
  });
  if (after.pausedBy.join(',') !== (before?.pausedBy ?? []).join(',')) changes.push(after.pausedBy.length > 0 ? `paused by ${after.pausedBy.join(' and ')}` : 'no longer paused');
  if (after.haltReason !== null && after.haltReason !== before?.haltReason) changes.push(`halted: ${after.haltReason}`);
  return changes;
}
