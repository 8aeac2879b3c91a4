/**
 * The fleet as the log tells it, kept up to date incrementally: every device's state, ring and timings, every
 * rollout's state and which devices it instructed and with what outcome, and each release's exposure (when each
 * device became protected). The orchestrator decides from it; `hotpatch status` reports it.
 */
import {
  deviceIdOf,
  deviceLifecycle,
  initialDeviceState,
  rolloutLifecycle,
  ROLLOUT_STREAM_PREFIX,
  type DeviceState,
  type HotpatchEvent,
  type RolloutState,
} from '@hotpatch/core';
import { machineFingerprintFor, type EventStore } from '@hotpatch/store';

/** The apply failures of a device that has had none (a map per device would cost about 600 bytes each). */
const NO_APPLY_FAILURES: ReadonlyMap<string, string> = new Map();

export interface DeviceRecord {
  readonly id: string;
  ring: string;
  state: DeviceState;
  version: number;
  /** Time of the device's last event: when its agent was last heard of. */
  lastEventAt: string;
  /** When the patch in flight started applying (null when not applying). */
  applyingSince: string | null;
  /** The release time of the newest fix the device runs (baseline or hotpatch); null when unknown. */
  protectedUpTo: string | null;
  /** The last outcome of each patch on this device. */
  readonly outcomes: Map<string, 'verified' | 'apply-failed' | 'health-failed' | 'rolled-back' | 'rollback-failed'>;
  /** When the last baseline was installed (a reboot completed). */
  lastBaselineAt: string | null;
  /** The baseline the last installed one replaced (where an uninstall takes the device back to). */
  previousBaseline: string | null;
  /** Why the last apply of each patch failed (most devices never fail one: they share one empty map). */
  applyFailures: ReadonlyMap<string, string>;
}

export interface RolloutRecord {
  readonly id: string;
  state: RolloutState;
  version: number;
  /** Devices instructed, by id: their ring, the action and when. */
  readonly instructed: Map<string, { ring: string; action: 'hotpatch' | 'reboot'; at: string }>;
  /** Devices with an outcome recorded in the rollout. */
  readonly outcomes: Map<string, 'succeeded' | 'failed' | 'setAside'>;
  /** Devices instructed and without an outcome yet: the ones a tick has to look at. */
  readonly pending: Set<string>;
  plannedAt: string;
}

export interface ReleaseRecord {
  readonly id: string;
  readonly kind: 'baseline' | 'hotpatch';
  readonly releasedAt: string;
  /** When each device became protected against it (first time only). */
  readonly protectedAt: Map<string, string>;
}

/** The serialised form's version: bump it whenever the records or what `apply` derives change. */
const PROJECTION_FORMAT = 3;
/** The machines a saved projection was folded with (their fingerprints). */
const projectionMachines = () => `${machineFingerprintFor('device/x')} ${machineFingerprintFor(`${ROLLOUT_STREAM_PREFIX}x`)}`;

type Entries<M> = M extends ReadonlyMap<infer K, infer V> ? Array<[K, V]> : never;
interface SavedFleet {
  readonly format: number;
  readonly machines: string;
  readonly position: number;
  readonly latestTime: string;
  readonly devices: Array<Omit<DeviceRecord, 'outcomes' | 'applyFailures'> & { outcomes: Entries<DeviceRecord['outcomes']>; applyFailures: Entries<DeviceRecord['applyFailures']> }>;
  readonly rollouts: Array<Omit<RolloutRecord, 'instructed' | 'outcomes' | 'pending'> & { instructed: Entries<RolloutRecord['instructed']>; outcomes: Entries<RolloutRecord['outcomes']>; pending: string[] }>;
  readonly releases: Array<Omit<ReleaseRecord, 'protectedAt'> & { protectedAt: Entries<ReleaseRecord['protectedAt']> }>;
  readonly ringMembers: Array<[string, string[]]>;
}

export class FleetProjection {
  readonly devices = new Map<string, DeviceRecord>();
  readonly rollouts = new Map<string, RolloutRecord>();
  readonly releases = new Map<string, ReleaseRecord>();
  /** Global position of the last event applied. */
  position = 0;
  /** The latest event time applied ('' before any): the moment the projection stands for. */
  latestTime = '';
  /** Devices whose state changed since the set was last cleared (a simulator's agents react to them). */
  readonly changed = new Set<string>();
  /** Each ring's devices (by enrolment). */
  readonly ringMembers = new Map<string, Set<string>>();
  /** The last event time seen: events come in bursts at one instant, and a fleet's records keep one copy of it. */
  private lastTime = '';

  /** The event's time as one shared string per instant (the records keep millions of them in a large fleet). */
  private timeOf(event: HotpatchEvent): string {
    if (event.time === this.lastTime) return this.lastTime;
    this.lastTime = event.time;
    return event.time;
  }

  /** Forgets everything, to be rebuilt from the log (after a batch of writes was rolled back). */
  reset(): void {
    this.devices.clear();
    this.rollouts.clear();
    this.releases.clear();
    this.ringMembers.clear();
    this.position = 0;
    this.latestTime = '';
  }

  /**
   * The projection as text, to be saved with the position it stands for (`EventStore.saveProjection`) and
   * restored with `restore`. Stamped with the format and the machines it was folded with: a projection saved by
   * another version is not restored, but rebuilt from the log.
   */
  serialize(): string {
    const saved: SavedFleet = {
      format: PROJECTION_FORMAT,
      machines: projectionMachines(),
      position: this.position,
      latestTime: this.latestTime,
      devices: [...this.devices.values()].map((d) => ({ ...d, outcomes: [...d.outcomes], applyFailures: [...d.applyFailures] })),
      rollouts: [...this.rollouts.values()].map((r) => ({ ...r, instructed: [...r.instructed], outcomes: [...r.outcomes], pending: [...r.pending] })),
      releases: [...this.releases.values()].map((r) => ({ ...r, protectedAt: [...r.protectedAt] })),
      ringMembers: [...this.ringMembers].map(([ring, members]) => [ring, [...members]]),
    };
    return JSON.stringify(saved);
  }

  /**
   * Replaces this projection's contents with a serialised one (in place: whoever holds this object sees it).
   * Returns false, and leaves the projection as it was, when the text is not a projection this build can trust
   * (another format or other machines, or not a projection at all).
   */
  restore(text: string): boolean {
    let saved: SavedFleet;
    try {
      saved = JSON.parse(text) as SavedFleet;
    } catch {
      return false;
    }
    if (saved?.format !== PROJECTION_FORMAT || saved.machines !== projectionMachines() || !Number.isSafeInteger(saved.position) || typeof saved.latestTime !== 'string') return false;
    this.reset();
    this.position = saved.position;
    this.latestTime = saved.latestTime;
    for (const d of saved.devices) this.devices.set(d.id, { ...d, outcomes: new Map(d.outcomes), applyFailures: d.applyFailures.length ? new Map(d.applyFailures) : NO_APPLY_FAILURES });
    for (const r of saved.rollouts) this.rollouts.set(r.id, { ...r, instructed: new Map(r.instructed), outcomes: new Map(r.outcomes), pending: new Set(r.pending) });
    for (const r of saved.releases) this.releases.set(r.id, { ...r, protectedAt: new Map(r.protectedAt) });
    for (const [ring, members] of saved.ringMembers) this.ringMembers.set(ring, new Set(members));
    return true;
  }

  /** Registers a release's date (also learnt from RolloutPlanned), so that protection can be measured against it. */
  knowRelease(id: string, kind: 'baseline' | 'hotpatch', releasedAt: string): void {
    if (this.releases.has(id)) return;
    const release: ReleaseRecord = { id, kind, releasedAt, protectedAt: new Map() };
    this.releases.set(id, release);
    // Devices already running a fix as new as this release were never exposed to it.
    for (const d of this.devices.values()) if (d.protectedUpTo !== null && d.protectedUpTo >= releasedAt && d.state.value !== 'retired') release.protectedAt.set(d.id, releasedAt);
  }

  apply(event: HotpatchEvent & { position?: number }): void {
    if (event.position !== undefined) this.position = event.position;
    if (event.time > this.latestTime) this.latestTime = event.time;
    const device = deviceIdOf(event.stream);
    if (device !== undefined) this.applyDevice(device, event);
    else if (event.stream.startsWith(ROLLOUT_STREAM_PREFIX)) this.applyRollout(event.stream.slice(ROLLOUT_STREAM_PREFIX.length), event);
  }

  private applyDevice(id: string, event: HotpatchEvent): void {
    const time = this.timeOf(event);
    let record = this.devices.get(id);
    if (!record) {
      record = { id, ring: '', state: initialDeviceState, version: 0, lastEventAt: time, applyingSince: null, protectedUpTo: null, outcomes: new Map(), lastBaselineAt: null, previousBaseline: null, applyFailures: NO_APPLY_FAILURES };
      this.devices.set(id, record);
    }
    const baselineBefore = record.state.context.baseline;
    record.state = deviceLifecycle.evolve(record.state, event as never) as DeviceState;
    record.version = event.version;
    this.changed.add(id);
    record.lastEventAt = time;
    switch (event.type) {
      case 'DeviceEnrolled': {
        record.ring = event.data.ring;
        let members = this.ringMembers.get(record.ring);
        if (!members) this.ringMembers.set(record.ring, (members = new Set()));
        members.add(id);
        break;
      }
      case 'PatchVerified':
        record.outcomes.set(event.data.patch, 'verified');
        break;
      case 'PatchApplyFailed':
        record.outcomes.set(event.data.patch, 'apply-failed');
        record.applyFailures = new Map(record.applyFailures).set(event.data.patch, event.data.reason);
        break;
      case 'HealthCheckFailed':
        record.outcomes.set(event.data.patch, 'health-failed');
        break;
      case 'PatchRolledBack':
        // After the device's own failure, the failure stays its outcome; otherwise the rollback was ordered.
        if (record.outcomes.get(event.data.patch) === 'verified' || !record.outcomes.has(event.data.patch)) record.outcomes.set(event.data.patch, 'rolled-back');
        break;
      case 'RollbackFailed':
        record.outcomes.set(event.data.patch, 'rollback-failed');
        break;
      case 'BaselineInstalled':
        record.lastBaselineAt = time;
        if (event.data.baseline !== baselineBefore) record.previousBaseline = baselineBefore;
        break;
    }
    record.applyingSince = record.state.value === 'applying' ? (event.type === 'PatchApplyStarted' ? time : record.applyingSince) : null;
    this.updateProtection(record, time);
  }

  /** The newest release the device's active fixes cover; each release it now covers for the first time is stamped. */
  private updateProtection(record: DeviceRecord, at: string): void {
    const { baseline, applied } = record.state.context;
    let newest: string | null = baseline === null ? null : (this.releases.get(baseline)?.releasedAt ?? null);
    for (const patch of Object.keys(applied)) {
      const released = this.releases.get(patch)?.releasedAt;
      if (released !== undefined && (newest === null || released > newest)) newest = released;
    }
    // Unchanged protection stamps nothing new: releases known since were stamped by knowRelease.
    const unchanged = newest === record.protectedUpTo;
    record.protectedUpTo = newest;
    if (unchanged || newest === null || record.state.value === 'retired') return;
    for (const release of this.releases.values()) {
      if (release.releasedAt <= newest && !release.protectedAt.has(record.id) && at >= release.releasedAt) release.protectedAt.set(record.id, at);
    }
  }

  private applyRollout(id: string, event: HotpatchEvent): void {
    let record = this.rollouts.get(id);
    if (!record) {
      record = { id, state: rolloutLifecycle.initial, version: 0, instructed: new Map(), outcomes: new Map(), pending: new Set(), plannedAt: event.time };
      this.rollouts.set(id, record);
    }
    record.state = rolloutLifecycle.evolve(record.state, event as never) as RolloutState;
    record.version = event.version;
    switch (event.type) {
      case 'RolloutPlanned':
        this.knowRelease(event.data.release, event.data.releaseKind, event.data.releasedAt);
        break;
      case 'DeviceInstructed':
        record.instructed.set(event.data.device, { ring: event.data.ring, action: event.data.action, at: this.timeOf(event) });
        if (!record.outcomes.has(event.data.device)) record.pending.add(event.data.device);
        break;
      case 'DeviceSucceeded':
        record.outcomes.set(event.data.device, 'succeeded');
        record.pending.delete(event.data.device);
        break;
      case 'DeviceFailed':
        record.outcomes.set(event.data.device, 'failed');
        record.pending.delete(event.data.device);
        break;
      case 'DeviceSetAside':
        record.outcomes.set(event.data.device, 'setAside');
        record.pending.delete(event.data.device);
        break;
    }
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
  return projection.restore(saved.data) ? 'restored' : 'untrusted';
}

/** Applies the log after the projection's position, reading it `pageSize` events at a time. */
export async function catchUpProjection(projection: FleetProjection, store: EventStore, pageSize = 10_000): Promise<void> {
  for (;;) {
    const events = await store.readAll({ fromPosition: projection.position + 1, limit: pageSize });
    for (const e of events) projection.apply(e);
    if (events.length < pageSize) return;
  }
}
