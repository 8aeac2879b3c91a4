import { idOfStream, rolloutProgress, type RingProgressView, type RolloutProgress, type RolloutState } from '@hotpatch/core';
import type { StreamState } from './device-view.js';

/** One ring of a rollout as replay reports it. */
export type RingView = RingProgressView;

/** What replay reports about one rollout: its progress (as the fleet report gives it), version and time. */
export interface RolloutView extends RolloutProgress {
  readonly version: number;
  readonly time: string;
}

export function toRolloutView(s: StreamState): RolloutView {
  const id = idOfStream('rollout', s.stream) ?? s.stream;
  return { ...rolloutProgress(id, s.state as RolloutState), version: s.version, time: s.time };
}

/**
 * What an event changed in a rollout, for a person: the ring counters that moved, a gate passed, a pause, a halt
 * and its reason (a halt moves its ring's devices in flight to withdrawn). Empty when nothing a person reads changed.
 */
export function rolloutChanges(before: RolloutView | null, after: RolloutView): string[] {
  const changes: string[] = [];
  if (before?.release !== after.release) changes.push(`release ${after.release}`);
  after.rings.forEach((ring, i) => {
    const was = before?.rings[i];
    if (ring.started !== null && (was?.started ?? null) === null) changes.push(`${ring.name} started: ${ring.size} devices, budget ${ring.budget}`);
    const moved = (['inFlight', 'succeeded', 'failed', 'setAside', 'withdrawn'] as const)
      .filter((k) => (was?.[k] ?? 0) !== ring[k])
      .map((k) => `${k === 'inFlight' ? 'in flight' : k === 'setAside' ? 'set aside' : k} ${was?.[k] ?? 0}→${ring[k]}`);
    if (moved.length > 0) changes.push(`${ring.name}: ${moved.join(', ')}${moved.some((m) => m.startsWith('failed')) ? ` (budget ${ring.budget})` : ''}`);
    if (ring.gatePassed && !was?.gatePassed) changes.push(`${ring.name}: gate passed`);
  });
  if (after.pausedBy.join(',') !== (before?.pausedBy ?? []).join(',')) changes.push(after.pausedBy.length > 0 ? `paused by ${after.pausedBy.join(' and ')}` : 'no longer paused');
  if (after.haltReason !== null && after.haltReason !== before?.haltReason) changes.push(`halted: ${after.haltReason}`);
  return changes;
}
