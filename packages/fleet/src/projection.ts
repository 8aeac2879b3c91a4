/**
 * The fleet as the log tells it, kept up to date incrementally: every device's state, ring and timings, every
 * rollout's state and which devices it instructed and with what outcome, and each release's exposure (which devices
 * are protected against it now, and since when). The orchestrator decides from it; `hotpatch status` reports it.
 */
import { idOfStream, type HotpatchEvent } from '@hotpatch/core';
import type { EventStore } from '@hotpatch/store';
import { applyEvent, knowRelease, pausedWithin } from './projection/apply.js';
import { clearProjectionState, emptyProjectionState, type DeviceRecord, type ProjectionState } from './projection/records.js';
import { parseProjection, serializeProjection } from './projection/saved.js';

export type { DeviceRecord, ProjectionState, ReleaseRecord, RingPauseRecord, RolloutRecord } from './projection/records.js';
export { pausedWithin, ProjectionOrderError } from './projection/apply.js';

const NONE: readonly string[] = [];

/** The live projection: `applyEvent` run in place on one state (no copies: this is the orchestrator's hot path). */
export class FleetProjection {
  private current: ProjectionState = emptyProjectionState();
  /** Devices enrolled since the set was last cleared (the orchestrator looks at whether they are behind). */
  readonly enrolled = new Set<string>();
  /** The last event time seen: events come in bursts at one instant, and a fleet's records keep one copy of it. */
  private lastTime = '';
  /** By device: the rollouts that instructed it, in the order of `rollouts` (derived from it, not saved). */
  private readonly instructing = new Map<string, string[]>();
  /** Each rollout's rank in `rollouts`. */
  private readonly rank = new Map<string, number>();

  /** The state itself (mutable: it changes as events are applied; `timeline.ts` gives immutable snapshots). */
  get state(): ProjectionState {
    return this.current;
  }
  get devices() {
    return this.current.devices;
  }
  get rollouts() {
    return this.current.rollouts;
  }
  get releases() {
    return this.current.releases;
  }
  get ringMembers() {
    return this.current.ringMembers;
  }
  get ringPauses() {
    return this.current.ringPauses;
  }
  /** What healings carried on, by rollout and device (see projection/healed.ts). */
  get healed() {
    return this.current.healed;
  }
  /** Global position of the last event applied. */
  get position(): number {
    return this.current.position;
  }
  /** The latest event time applied ('' before any): the moment the projection stands for. */
  get latestTime(): string {
    return this.current.latestTime;
  }

  /** Forgets everything, to be rebuilt from the log (after a batch of writes was rolled back). */
  reset(): void {
    clearProjectionState(this.current);
    this.enrolled.clear();
    this.instructing.clear();
    this.rank.clear();
  }

  /** The projection as text, in parts of about `partChars` characters (see `serializeProjection`). */
  serialize(partChars?: number): string[] {
    return serializeProjection(this.current, partChars);
  }

  /**
   * Replaces this projection's contents with a serialised one (in place: whoever holds this object sees it). Returns
   * false, and leaves the projection as it was, when it is not a projection this build can trust.
   */
  restore(data: string | readonly string[]): boolean {
    const state = parseProjection(data);
    if (state === undefined) return false;
    this.current = state;
    this.enrolled.clear();
    this.instructing.clear();
    this.rank.clear();
    for (const rollout of state.rollouts.values()) {
      this.rank.set(rollout.id, this.rank.size);
      for (const device of rollout.instructed.keys()) this.noteInstructed(device, rollout.id);
    }
    return true;
  }

  /** Registers a release at `at`, so that protection is measured against it (see `knowRelease`). */
  knowRelease(id: string, kind: 'baseline' | 'hotpatch', releasedAt: string, at: string, cumulativeUpdate?: string): void {
    knowRelease(this.current, id, kind, releasedAt, at, cumulativeUpdate);
  }

  /**
   * Applies an event of the log. The projection follows the log in position order: an event at or below its position
   * that it has taken in already is skipped (overlapping reads, two catch-ups at once, change nothing the second
   * time); one there it has not seen is refused (`ProjectionOrderError`: the log's positions do not grow).
   */
  apply(event: HotpatchEvent & { position?: number }): void {
    let time = event.time;
    if (time === this.lastTime) time = this.lastTime;
    else this.lastTime = time;
    const device = applyEvent(this.current, event, time);
    if (device !== undefined && event.type === 'DeviceEnrolled') this.enrolled.add(device);
    else if (device === undefined) {
      const rollout = idOfStream('rollout', event.stream);
      if (rollout === undefined) return;
      if (!this.rank.has(rollout)) this.rank.set(rollout, this.rank.size);
      if (event.type === 'DeviceInstructed') this.noteInstructed(event.data.device, rollout);
    }
  }

  private noteInstructed(device: string, rollout: string): void {
    const held = this.instructing.get(device);
    if (held === undefined) this.instructing.set(device, [rollout]);
    else if (!held.includes(rollout)) {
      // In its place by rank: the last, nearly always (a device is instructed by the newer rollouts later).
      const rank = this.rank.get(rollout)!;
      let i = held.length;
      while (i > 0 && this.rank.get(held[i - 1]!)! > rank) i--;
      if (i === held.length) held.push(rollout);
      else held.splice(i, 0, rollout);
    }
  }

  /** The rollouts that instructed a device, in the order of `rollouts`. */
  rolloutsInstructing(device: string): readonly string[] {
    return this.instructing.get(device) ?? NONE;
  }

  /** A ring's devices now: its members by enrolment, less the retired ones. */
  liveRingMembers(ring: string): DeviceRecord[] {
    const out: DeviceRecord[] = [];
    for (const id of this.current.ringMembers.get(ring) ?? []) {
      const d = this.current.devices.get(id)!;
      if (d.state.value !== 'retired') out.push(d);
    }
    return out;
  }

  /** Whether a ring is paused (by the service, the tenant or both): it receives nothing new, whatever the release. */
  isRingPaused(ring: string): boolean {
    return this.current.ringPauses.get(ring)?.state.value === 'paused';
  }

  /** How long (ms) the ring was paused between two times. */
  ringPausedMs(ring: string, from: string, to: string): number {
    return pausedWithin(this.current.ringPauses.get(ring)?.pauses ?? [], from, to);
  }

  /**
   * How long (ms) the rollout or its ring was paused between two times, the two counted once where they overlap:
   * a ring's deadline does not run while either is paused (a pause is someone's decision, not the ring failing).
   */
  pausedMs(rollout: { readonly pauses: ReadonlyArray<readonly [string, string | null]> }, ring: string, from: string, to: string): number {
    return pausedWithin([...rollout.pauses, ...(this.current.ringPauses.get(ring)?.pauses ?? [])], from, to);
  }
}

/**
 * Replaces the projection with the one saved in the store under `name` (`EventStore.saveProjection`) when there is
 * one this build can trust. Says which: 'restored', 'missing' (none saved), or 'untrusted' (another format or
 * other machines; the projection is left as it was).
 */
export async function restoreSavedProjection(projection: FleetProjection, store: EventStore, name: string): Promise<'restored' | 'missing' | 'untrusted'> {
  const saved = await store.readProjection(name);
  if (saved === undefined) return 'missing';
  return projection.restore(saved.parts) ? 'restored' : 'untrusted';
}

/** Applies the log after the projection's position, reading it `pageSize` events at a time. */
export async function catchUpProjection(projection: FleetProjection, store: EventStore, pageSize = 1_000): Promise<void> {
  for (;;) {
    const events = await store.readAll({ fromPosition: projection.position + 1, limit: pageSize });
    for (const e of events) projection.apply(e);
    if (events.length < pageSize) return;
  }
}
