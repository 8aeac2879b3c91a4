/**
 * How each event changes a fleet projection: plain mutations of a `ProjectionState`, run in place by the live
 * projection and as immer recipes by the timeline (so they must only read and write through `state`).
 */
import { deviceIdOf, streamPrefix, deviceLifecycle, HotpatchError, idOfStream, initialDeviceState, ringLifecycle, rolloutLifecycle, type DeviceState, type HotpatchEvent, type RingState, type RolloutState } from '@hotpatch/core';
import { healedBy, healedKey } from './healed.js';
import { NO_APPLY_FAILURES, type DeviceRecord, type ProjectionState, type ReleaseRecord, type RolloutRecordUpdate } from './records.js';

/**
 * Applies one event of the log, at `time` (the event's time; the live projection passes one shared string per
 * instant). Returns the device the event is about, if it is a device's and was applied: an event the projection
 * has already taken in is skipped (see `alreadyApplied`).
 */
const TOKEN_PREFIX = streamPrefix('token');

export function applyEvent(state: ProjectionState, event: HotpatchEvent & { position?: number }, time: string = event.time): string | undefined {
  if (event.position !== undefined) {
    if (event.position <= state.position && alreadyApplied(state, event)) return undefined;
    state.position = event.position;
  }
  const device = deviceIdOf(event.stream);
  const rollout = device === undefined ? idOfStream('rollout', event.stream) : undefined;
  const ring = device === undefined && rollout === undefined ? idOfStream('ring', event.stream) : undefined;
  // A stream of no kind the projection keeps: a service token's and the service's seals of the log (no facts of the
  // fleet, and their time the service's wall clock, not the fleet's), a named tenant's (`tenant/<tenant>/…`: the
  // projection is the default tenant's fleet, or its tenant's over a tenant's view of the store). Passed over.
  if (device === undefined && rollout === undefined && ring === undefined) return undefined;
  if (event.time > state.latestTime) state.latestTime = event.time;
  if (device !== undefined) applyDevice(state, device, event, time);
  else if (rollout !== undefined) applyRollout(state, rollout, event, time);
  else applyRing(state, ring!, event);
  if (event.meta !== undefined) noteHealed(state, event, device);
  return device;
}

/** A healing's step (see healed.ts): the first for its rollout and device is kept. */
function noteHealed(state: ProjectionState, event: HotpatchEvent, device: string | undefined): void {
  const healed = healedBy(event);
  const id = device ?? (event.type === 'DeviceInstructed' ? event.data.device : undefined);
  if (healed === undefined || id === undefined) return;
  const key = healedKey(healed.rollout, id);
  if (!state.healed.has(key)) state.healed.set(key, { rollout: healed.rollout, device: id, gap: healed.gap, at: event.time });
}

/**
 * Whether an event at or below the projection's position is one it has taken in: its stream's record is at its
 * version or past it (two reads of the log that overlap, say two catch-ups at once, give the same events twice; the
 * second time they change nothing). One its stream has not seen means the log's positions do not grow: refused
 * (ProjectionOrderError), as applying it would leave the projection at an older position than it holds.
 * Positions that skip ahead are taken as they come: a store promises commit order, not positions without gaps.
 */
function alreadyApplied(state: ProjectionState, event: HotpatchEvent & { position?: number }): boolean {
  const record = recordOf(state, event.stream);
  if (record === null || (record !== undefined && event.version <= record.version)) return true;
  throw new ProjectionOrderError(event.stream, event.version, event.position!, state.position);
}

/** The record of a stream's id, by the stream's kind: undefined if there is none yet, null for a kind the projection does not keep. */
function recordOf(state: ProjectionState, stream: string): { readonly version: number } | undefined | null {
  const device = deviceIdOf(stream);
  if (device !== undefined) return state.devices.get(device);
  const rollout = idOfStream('rollout', stream);
  if (rollout !== undefined) return state.rollouts.get(rollout);
  const ring = idOfStream('ring', stream);
  return ring !== undefined ? state.ringPauses.get(ring) : null;
}

/** An event below the projection's position that it has not taken in: the log's positions do not grow. */
export class ProjectionOrderError extends HotpatchError {
  readonly code = 'PROJECTION_ORDER';
  constructor(
    readonly stream: string,
    readonly version: number,
    readonly position: number,
    /** The projection's position when the event came: the last position applied. */
    readonly after: number,
  ) {
    super(`${stream}@${version} at position ${position} comes after position ${after}, and the projection has not seen it: the log's positions do not grow (hotpatch verify says where)`);
  }
}

/**
 * Registers a release (learnt from its rollout's RolloutPlanned, at `at`), so that protection is measured against
 * it. A release is judged with what the log has named by each moment: a fix whose release the log has not named
 * yet protects nothing, since its date is not known.
 */
export function knowRelease(state: ProjectionState, id: string, kind: 'baseline' | 'hotpatch', releasedAt: string, at: string, cumulativeUpdate?: string): void {
  if (state.releases.has(id)) return;
  const release: ReleaseRecord = { id, kind, releasedAt, ...(cumulativeUpdate !== undefined ? { cumulativeUpdate } : {}), protectedSince: new Map() };
  // Devices already running a fix as new as this release (one the log had named): protected against it since they
  // were against the newer releases. No named fix lies between this release and the oldest of those, so a device
  // has been protected against this one exactly as long as against one of them.
  const newer = [...state.releases.values()].filter((r) => r.releasedAt >= releasedAt);
  for (const d of state.devices.values()) {
    if (d.protectedUpTo === null || d.protectedUpTo < releasedAt || d.state.value === 'retired') continue;
    let since = at;
    for (const r of newer) {
      const s = r.protectedSince.get(d.id);
      if (s !== undefined && s < since) since = s;
    }
    release.protectedSince.set(d.id, since);
  }
  state.releases.set(id, release);
  const bringsNew = cumulativeUpdate !== undefined && !state.cumulativeUpdates.has(cumulativeUpdate);
  if (bringsNew) state.cumulativeUpdates.set(cumulativeUpdate, id);
  // Devices running this release itself (its baseline, its hotpatch, its cumulative update) are protected from now.
  for (const d of state.devices.values()) {
    const { baseline, applied } = d.state.context;
    if (baseline === id || (bringsNew && baseline === cumulativeUpdate) || id in applied) updateProtection(state, d, at);
  }
}

function applyRing(state: ProjectionState, ring: string, event: HotpatchEvent): void {
  if (!state.ringPauses.has(ring)) state.ringPauses.set(ring, { ring, state: ringLifecycle.initial, version: 0, pauses: [] });
  const record = state.ringPauses.get(ring)!;
  const wasPaused = record.state.value === 'paused';
  record.state = ringLifecycle.evolve(record.state, event as never) as RingState;
  record.version = event.version;
  notePause(record.pauses, wasPaused, record.state.value === 'paused', event.time);
}

function applyDevice(state: ProjectionState, id: string, event: HotpatchEvent, time: string): void {
  if (!state.devices.has(id)) state.devices.set(id, newDeviceRecord(id, time));
  const record = state.devices.get(id)!;
  evolveDeviceRecord(record, event, time);
  if (event.type === 'DeviceEnrolled') {
    if (!state.ringMembers.has(record.ring)) state.ringMembers.set(record.ring, new Set());
    state.ringMembers.get(record.ring)!.add(id);
  }
  updateProtection(state, record, time);
}

/** A device's record before its first event. */
export function newDeviceRecord(id: string, time: string): DeviceRecord {
  return { id, ring: '', state: initialDeviceState, version: 0, lastEventAt: time, applyingSince: null, protectedUpTo: null, outcomes: new Map(), lastBaselineAt: null, previousBaseline: null, applyFailures: NO_APPLY_FAILURES };
}

/**
 * What a device's event changes in its own record, all but its protection (which depends on the releases known): the
 * projection's records, and the drafts an orchestrator's decision works on, alike. `next`: the state after the event,
 * when the caller knows it already (a command's decision).
 */
export function evolveDeviceRecord(record: DeviceRecord, event: HotpatchEvent, time: string, next?: DeviceState): void {
  const baselineBefore = record.state.context.baseline;
  record.state = next ?? (deviceLifecycle.evolve(record.state, event as never) as DeviceState);
  record.version = event.version;
  record.lastEventAt = time;
  switch (event.type) {
    case 'DeviceEnrolled':
      record.ring = event.data.ring;
      break;
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
}

/**
 * The newest release the device's active fixes cover (`protectedUpTo`), and its protection against each release
 * kept to it: a release it covers now and did not is stamped with `at`, one it no longer covers, or any once it is
 * retired, is taken off.
 */
function updateProtection(state: ProjectionState, record: DeviceRecord, at: string): void {
  const newest = protectedUpToOf(state, record.state);
  const retired = record.state.value === 'retired';
  // Unchanged protection changes nothing: releases known since were stamped by knowRelease.
  if (newest === record.protectedUpTo && !retired) return;
  record.protectedUpTo = newest;
  for (const release of state.releases.values()) {
    const covered = !retired && newest !== null && release.releasedAt <= newest;
    if (covered && !release.protectedSince.has(record.id)) release.protectedSince.set(record.id, at);
    else if (!covered) release.protectedSince.delete(record.id);
  }
}

/** The release time of the newest fix a device in this state runs, of the releases the projection knows; null when none. */
export function protectedUpToOf(state: ProjectionState, device: DeviceState): string | null {
  const { baseline, applied } = device.context;
  // What the device runs: a baseline, or a hotpatch's cumulative update (the same fix, installed with a restart).
  let newest: string | null = baseline === null ? null : (state.releases.get(baseline)?.releasedAt ?? releasedAtOf(state, state.cumulativeUpdates.get(baseline)));
  for (const patch of Object.keys(applied)) {
    const released = state.releases.get(patch)?.releasedAt;
    if (released !== undefined && (newest === null || released > newest)) newest = released;
  }
  return newest;
}

/** When the release with this id came out (null when there is none, or the log has not named it). */
function releasedAtOf(state: ProjectionState, release: string | undefined): string | null {
  return release === undefined ? null : (state.releases.get(release)?.releasedAt ?? null);
}

function applyRollout(state: ProjectionState, id: string, event: HotpatchEvent, time: string): void {
  if (!state.rollouts.has(id)) {
    state.rollouts.set(id, { id, state: rolloutLifecycle.initial, version: 0, instructed: new Map(), outcomes: new Map(), pending: new Set(), plannedAt: event.time, plan: null, pauses: [] });
  }
  evolveRolloutRecord(state.rollouts.get(id)!, event, time);
  if (event.type === 'RolloutPlanned') knowRelease(state, event.data.release, event.data.releaseKind, event.data.releasedAt, time, event.data.cumulativeUpdate);
}

/** What a rollout's event changes in its own record (the release it plans is the projection's business). */
export function evolveRolloutRecord(record: RolloutRecordUpdate, event: HotpatchEvent, time: string, next?: RolloutState): void {
  const wasPaused = record.state.value === 'paused';
  record.state = next ?? (rolloutLifecycle.evolve(record.state, event as never) as RolloutState);
  record.version = event.version;
  notePause(record.pauses, wasPaused, record.state.value === 'paused', event.time);
  switch (event.type) {
    case 'RolloutPlanned':
      record.plan = event.data;
      break;
    case 'DeviceInstructed':
      record.instructed.set(event.data.device, { ring: event.data.ring, action: event.data.action, at: time });
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

/** Opens a pause when a stream became paused, and closes it when it stopped being paused. */
function notePause(pauses: Array<[string, string | null]>, was: boolean, is: boolean, at: string): void {
  if (is && !was) pauses.push([at, null]);
  else if (!is && was) pauses[pauses.length - 1]![1] = at;
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
