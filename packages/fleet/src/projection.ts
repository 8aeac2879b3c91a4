/**
 * The fleet as the log tells it, kept up to date incrementally: every device's state, ring and timings, every
 * rollout's state and which devices it instructed and with what outcome, and each release's exposure (which devices
 * are protected against it now, and since when). The orchestrator decides from it; `hotpatch status` reports it.
 */
import {
  deviceIdOf,
  ringLifecycle,
  rolloutLifecycle,
  idOfStream,
  toStreamName,
  type DeviceState,
  type RingState,
  type HotpatchEvent,
  type RolloutState,
} from '@hotpatch/core';
import { machineFingerprintFor, type EventStore } from '@hotpatch/store';
import { evolveDeviceRecord, evolveRolloutRecord, newDeviceRecord, notePause, NO_APPLY_FAILURES, type DeviceRecord, type RolloutRecord } from './records.js';

export type { DeviceRecord, Instruction, RolloutOutcome, RolloutRecord, RolloutRecordUpdate } from './records.js';
export { evolveDeviceRecord, evolveRolloutRecord, newDeviceRecord } from './records.js';

/** A ring's pauses (stream `ring/<name>`), whatever the release: a paused ring receives nothing new. */
export interface RingPauseRecord {
  readonly ring: string;
  state: RingState;
  version: number;
  /** Its pauses, oldest first: when each began and ended (null while it lasts). */
  readonly pauses: Array<[from: string, to: string | null]>;
}

export interface ReleaseRecord {
  readonly id: string;
  readonly kind: 'baseline' | 'hotpatch';
  readonly releasedAt: string;
  /**
   * A hotpatch's cumulative update (the same fix, installed with a restart by the devices that cannot take the
   * hotpatch): a device running it is protected up to this release. Absent when the log does not name one.
   */
  readonly cumulativeUpdate?: string;
  /**
   * The devices protected against it now, each with when its protection began: protected while, and only while,
   * what it runs (its baseline, a cumulative update, its active hotpatches) includes a fix released at or after
   * this one. A device that loses it (a rollback, a restart back to an older baseline, retirement) leaves the map;
   * one that regains it counts from then (see docs/domain.md, "Exposure"). A device already running a newer fix
   * when the release came out has a time before the release: it was never exposed (0 days).
   */
  readonly protectedSince: Map<string, string>;
}

/** The serialised form's version: bump it whenever the records, what `apply` derives or the layout change. */
const PROJECTION_FORMAT = 8;
/** The machines a saved projection was folded with (their fingerprints). */
const projectionMachines = () => (['device', 'rollout', 'ring'] as const).map((kind) => machineFingerprintFor(toStreamName(kind, 'x'))).join(' ');

type Entries<M> = M extends ReadonlyMap<infer K, infer V> ? Array<[K, V]> : never;
interface SavedHeader {
  readonly format: number;
  readonly machines: string;
  readonly position: number;
  readonly latestTime: string;
}
type SavedDevice = Omit<DeviceRecord, 'outcomes' | 'applyFailures'> & { outcomes: Entries<DeviceRecord['outcomes']>; applyFailures: Entries<DeviceRecord['applyFailures']> };
type SavedRollout = Omit<RolloutRecord, 'instructed' | 'outcomes' | 'pending'>;
type SavedRelease = Omit<ReleaseRecord, 'protectedSince'>;
/**
 * One line of a saved projection (after the header line). A rollout's, a release's and a ring's device-sized
 * collections follow their record in chunks, so that no line grows with the fleet.
 */
type SavedLine =
  | ['device', SavedDevice]
  | ['rollout', SavedRollout]
  | ['instructed', string, Entries<RolloutRecord['instructed']>]
  | ['outcomes', string, Entries<RolloutRecord['outcomes']>]
  | ['pending', string, string[]]
  | ['release', SavedRelease]
  | ['protectedSince', string, Entries<ReleaseRecord['protectedSince']>]
  | ['ring', string, string[]]
  | ['ringPause', RingPauseRecord];
/** Entries per chunk line. */
const CHUNK = 10_000;
/** A part is closed once it holds this many characters (lines are never split across parts). */
const DEFAULT_PART_CHARS = 16 * 2 ** 20;

const SAVED_KINDS: ReadonlySet<unknown> = new Set(['device', 'rollout', 'instructed', 'outcomes', 'pending', 'release', 'protectedSince', 'ring', 'ringPause']);

function* chunks<T>(items: Iterable<T>): Generator<T[]> {
  let chunk: T[] = [];
  for (const item of items) {
    chunk.push(item);
    if (chunk.length === CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

export class FleetProjection {
  readonly devices = new Map<string, DeviceRecord>();
  readonly rollouts = new Map<string, RolloutRecord>();
  readonly releases = new Map<string, ReleaseRecord>();
  /** Hotpatches' cumulative updates, by the name a device reports installing: the release each brings. */
  private readonly cumulativeUpdates = new Map<string, ReleaseRecord>();
  /** Global position of the last event applied. */
  position = 0;
  /** The latest event time applied ('' before any): the moment the projection stands for. */
  latestTime = '';
  /** Devices whose state changed since the set was last cleared (a simulator's agents react to them). */
  readonly changed = new Set<string>();
  /** Devices enrolled since the set was last cleared (the orchestrator looks at whether they are behind). */
  readonly enrolled = new Set<string>();
  /** Each ring's devices (by enrolment). */
  readonly ringMembers = new Map<string, Set<string>>();
  /** The rings that were ever paused, by name (a ring never paused has no record: it is open). */
  readonly ringPauses = new Map<string, RingPauseRecord>();
  /** Called with every event after it is applied (a simulator counts its figures from the events as they come). */
  onApplied: ((event: HotpatchEvent & { position?: number }) => void) | undefined = undefined;
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
    this.cumulativeUpdates.clear();
    this.ringMembers.clear();
    this.ringPauses.clear();
    this.enrolled.clear();
    this.position = 0;
    this.latestTime = '';
  }

  /**
   * The projection as text, in parts, to be saved with the position it stands for (`EventStore.saveProjection`)
   * and restored with `restore`. Parts of about `partChars` characters (16 Mi by default): one JavaScript string
   * holds at most about 537 million characters, which a fleet of 150,000 to 350,000 devices a year in passes. Each
   * part is whole lines of JSON: a header, stamped with the format and the machines the projection was folded
   * with (a projection saved by another version is not restored, but rebuilt from the log), then a line per
   * record and per chunk of a record's device-sized collections.
   */
  serialize(partChars = DEFAULT_PART_CHARS): string[] {
    const parts: string[] = [];
    let lines: string[] = [];
    let size = 0;
    const add = (line: string) => {
      lines.push(line);
      size += line.length + 1;
      if (size >= partChars) {
        parts.push(lines.join('\n'));
        lines = [];
        size = 0;
      }
    };
    const header: SavedHeader = { format: PROJECTION_FORMAT, machines: projectionMachines(), position: this.position, latestTime: this.latestTime };
    add(JSON.stringify(header));
    const line = (l: SavedLine) => add(JSON.stringify(l));
    for (const d of this.devices.values()) line(['device', { ...d, outcomes: [...d.outcomes], applyFailures: [...d.applyFailures] }]);
    for (const r of this.rollouts.values()) {
      const { instructed, outcomes, pending, ...rest } = r;
      line(['rollout', rest]);
      for (const c of chunks(instructed)) line(['instructed', r.id, c]);
      for (const c of chunks(outcomes)) line(['outcomes', r.id, c]);
      for (const c of chunks(pending)) line(['pending', r.id, c]);
    }
    for (const r of this.releases.values()) {
      const { protectedSince, ...rest } = r;
      line(['release', rest]);
      for (const c of chunks(protectedSince)) line(['protectedSince', r.id, c]);
    }
    for (const [ring, members] of this.ringMembers) {
      let any = false;
      for (const c of chunks(members)) {
        line(['ring', ring, c]);
        any = true;
      }
      if (!any) line(['ring', ring, []]);
    }
    for (const r of this.ringPauses.values()) line(['ringPause', r]);
    if (lines.length > 0) parts.push(lines.join('\n'));
    return parts;
  }

  /**
   * Replaces this projection's contents with a serialised one (in place: whoever holds this object sees it), given
   * as `serialize` gave it (its parts, or one string). Returns false, and leaves the projection as it was, when it
   * is not a projection this build can trust (another format or other machines, or not a projection at all).
   */
  restore(data: string | readonly string[]): boolean {
    const parts = typeof data === 'string' ? [data] : data;
    let header: SavedHeader;
    const lines: SavedLine[] = [];
    const rollouts = new Set<string>();
    const releases = new Set<string>();
    try {
      let first = true;
      for (const part of parts) {
        for (const text of part.split('\n')) {
          if (first) {
            header = JSON.parse(text) as SavedHeader;
            if (header?.format !== PROJECTION_FORMAT || header.machines !== projectionMachines() || !Number.isSafeInteger(header.position) || typeof header.latestTime !== 'string') return false;
            first = false;
            continue;
          }
          const l = JSON.parse(text) as SavedLine;
          if (!Array.isArray(l) || !SAVED_KINDS.has(l[0])) return false;
          // A chunk belongs to a record given before it.
          if (l[0] === 'rollout') rollouts.add(l[1].id);
          else if (l[0] === 'release') releases.add(l[1].id);
          else if ((l[0] === 'instructed' || l[0] === 'outcomes' || l[0] === 'pending') && !rollouts.has(l[1])) return false;
          else if (l[0] === 'protectedSince' && !releases.has(l[1])) return false;
          lines.push(l);
        }
      }
      if (first) return false;
    } catch {
      return false;
    }
    this.reset();
    this.position = header!.position;
    this.latestTime = header!.latestTime;
    for (const l of lines) {
      switch (l[0]) {
        case 'device': {
          const d = l[1];
          this.devices.set(d.id, { ...d, outcomes: new Map(d.outcomes), applyFailures: d.applyFailures.length ? new Map(d.applyFailures) : NO_APPLY_FAILURES });
          break;
        }
        case 'rollout':
          this.rollouts.set(l[1].id, { ...l[1], instructed: new Map(), outcomes: new Map(), pending: new Set() });
          break;
        case 'instructed':
          for (const [k, v] of l[2]) this.rollouts.get(l[1])!.instructed.set(k, v);
          break;
        case 'outcomes':
          for (const [k, v] of l[2]) this.rollouts.get(l[1])!.outcomes.set(k, v);
          break;
        case 'pending':
          for (const k of l[2]) this.rollouts.get(l[1])!.pending.add(k);
          break;
        case 'release': {
          const release: ReleaseRecord = { ...l[1], protectedSince: new Map() };
          this.releases.set(release.id, release);
          if (release.cumulativeUpdate !== undefined && !this.cumulativeUpdates.has(release.cumulativeUpdate)) this.cumulativeUpdates.set(release.cumulativeUpdate, release);
          break;
        }
        case 'protectedSince':
          for (const [k, v] of l[2]) this.releases.get(l[1])!.protectedSince.set(k, v);
          break;
        case 'ringPause':
          this.ringPauses.set(l[1].ring, l[1]);
          break;
        case 'ring': {
          const members = this.ringMembers.get(l[1]) ?? new Set<string>();
          this.ringMembers.set(l[1], members);
          for (const k of l[2]) members.add(k);
          break;
        }
      }
    }
    return true;
  }

  /**
   * Registers a release (learnt from its rollout's RolloutPlanned, at `at`), so that protection is measured against
   * it. A release is judged with what the log has named by each moment: a fix whose release the log has not named
   * yet protects nothing, since its date is not known.
   */
  knowRelease(id: string, kind: 'baseline' | 'hotpatch', releasedAt: string, at: string, cumulativeUpdate?: string): void {
    if (this.releases.has(id)) return;
    const release: ReleaseRecord = { id, kind, releasedAt, ...(cumulativeUpdate !== undefined ? { cumulativeUpdate } : {}), protectedSince: new Map() };
    // Devices already running a fix as new as this release (one the log had named): protected against it since they
    // were against the newer releases. No named fix lies between this release and the oldest of those, so a device
    // has been protected against this one exactly as long as against one of them.
    const newer = [...this.releases.values()].filter((r) => r.releasedAt >= releasedAt);
    for (const d of this.devices.values()) {
      if (d.protectedUpTo === null || d.protectedUpTo < releasedAt || d.state.value === 'retired') continue;
      let since = at;
      for (const r of newer) {
        const s = r.protectedSince.get(d.id);
        if (s !== undefined && s < since) since = s;
      }
      release.protectedSince.set(d.id, since);
    }
    this.releases.set(id, release);
    const bringsNew = cumulativeUpdate !== undefined && !this.cumulativeUpdates.has(cumulativeUpdate);
    if (bringsNew) this.cumulativeUpdates.set(cumulativeUpdate, release);
    // Devices running this release itself (its baseline, its hotpatch, its cumulative update) are protected from now.
    for (const d of this.devices.values()) {
      const { baseline, applied } = d.state.context;
      if (baseline === id || (bringsNew && baseline === cumulativeUpdate) || id in applied) this.updateProtection(d, at);
    }
  }

  apply(event: HotpatchEvent & { position?: number }): void {
    if (event.position !== undefined) this.position = event.position;
    if (event.time > this.latestTime) this.latestTime = event.time;
    const device = deviceIdOf(event.stream);
    if (device !== undefined) this.applyDevice(device, event);
    else {
      const rollout = idOfStream('rollout', event.stream);
      if (rollout !== undefined) this.applyRollout(rollout, event);
      else {
        const ring = idOfStream('ring', event.stream);
        if (ring !== undefined) this.applyRing(ring, event);
      }
    }
    this.onApplied?.(event);
  }

  /** A ring's devices now: its members by enrolment, less the retired ones. */
  liveRingMembers(ring: string): DeviceRecord[] {
    const out: DeviceRecord[] = [];
    for (const id of this.ringMembers.get(ring) ?? []) {
      const d = this.devices.get(id)!;
      if (d.state.value !== 'retired') out.push(d);
    }
    return out;
  }

  /** Whether a ring is paused (by the service, the tenant or both): it receives nothing new, whatever the release. */
  isRingPaused(ring: string): boolean {
    return this.ringPauses.get(ring)?.state.value === 'paused';
  }

  /** How long (ms) the ring was paused between two times. */
  ringPausedMs(ring: string, from: string, to: string): number {
    return pausedWithin(this.ringPauses.get(ring)?.pauses ?? [], from, to);
  }

  /**
   * How long (ms) the rollout or its ring was paused between two times, the two counted once where they overlap:
   * a ring's deadline does not run while either is paused (a pause is someone's decision, not the ring failing).
   */
  pausedMs(rollout: { readonly pauses: ReadonlyArray<readonly [string, string | null]> }, ring: string, from: string, to: string): number {
    return pausedWithin([...rollout.pauses, ...(this.ringPauses.get(ring)?.pauses ?? [])], from, to);
  }

  private applyRing(ring: string, event: HotpatchEvent): void {
    let record = this.ringPauses.get(ring);
    if (!record) {
      record = { ring, state: ringLifecycle.initial, version: 0, pauses: [] };
      this.ringPauses.set(ring, record);
    }
    const wasPaused = record.state.value === 'paused';
    record.state = ringLifecycle.evolve(record.state, event as never) as RingState;
    record.version = event.version;
    notePause(record.pauses, wasPaused, record.state.value === 'paused', event.time);
  }

  private applyDevice(id: string, event: HotpatchEvent): void {
    const time = this.timeOf(event);
    let record = this.devices.get(id);
    if (!record) {
      record = newDeviceRecord(id, time);
      this.devices.set(id, record);
    }
    evolveDeviceRecord(record, event, time);
    this.changed.add(id);
    if (event.type === 'DeviceEnrolled') {
      this.enrolled.add(id);
      let members = this.ringMembers.get(record.ring);
      if (!members) this.ringMembers.set(record.ring, (members = new Set()));
      members.add(id);
    }
    this.updateProtection(record, time);
  }

  /** The release time of the newest fix a device in this state runs, of the releases known; null when none. */
  protectedUpToOf(state: DeviceState): string | null {
    const { baseline, applied } = state.context;
    // What the device runs: a baseline, or a hotpatch's cumulative update (the same fix, installed with a restart).
    let newest: string | null = baseline === null ? null : (this.releases.get(baseline)?.releasedAt ?? this.cumulativeUpdates.get(baseline)?.releasedAt ?? null);
    for (const patch of Object.keys(applied)) {
      const released = this.releases.get(patch)?.releasedAt;
      if (released !== undefined && (newest === null || released > newest)) newest = released;
    }
    return newest;
  }

  /**
   * The newest release the device's active fixes cover (`protectedUpTo`), and its protection against each release
   * kept to it: a release it covers now and did not is stamped with `at`, one it no longer covers, or any once it is
   * retired, is taken off.
   */
  private updateProtection(record: DeviceRecord, at: string): void {
    const newest = this.protectedUpToOf(record.state);
    const retired = record.state.value === 'retired';
    // Unchanged protection changes nothing: releases known since were stamped by knowRelease.
    if (newest === record.protectedUpTo && !retired) return;
    record.protectedUpTo = newest;
    for (const release of this.releases.values()) {
      const covered = !retired && newest !== null && release.releasedAt <= newest;
      if (covered && !release.protectedSince.has(record.id)) release.protectedSince.set(record.id, at);
      else if (!covered) release.protectedSince.delete(record.id);
    }
  }

  private applyRollout(id: string, event: HotpatchEvent): void {
    let record = this.rollouts.get(id);
    if (!record) {
      record = { id, state: rolloutLifecycle.initial, version: 0, instructed: new Map(), outcomes: new Map(), pending: new Set(), plannedAt: event.time, plan: null, pauses: [] };
      this.rollouts.set(id, record);
    }
    evolveRolloutRecord(record, event, this.timeOf(event));
    if (event.type === 'RolloutPlanned') this.knowRelease(event.data.release, event.data.releaseKind, event.data.releasedAt, this.timeOf(event), event.data.cumulativeUpdate);
  }
}

/** The time (ms) within [from, to] covered by any of the intervals (an open one runs to `to`), overlaps counted once. */
export function pausedWithin(intervals: ReadonlyArray<readonly [string, string | null]>, from: string, to: string): number {
  const lo = Date.parse(from);
  const hi = Date.parse(to);
  const spans = intervals
    .map(([a, b]) => [Math.max(Date.parse(a), lo), Math.min(b === null ? hi : Date.parse(b), hi)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let ms = 0;
  let end = -Infinity;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    ms += b - Math.max(a, end);
    end = b;
  }
  return ms;
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
