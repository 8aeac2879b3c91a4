import { DEVICE_STREAMS, deviceIdOf, idOfStream, type DeviceState, type HotpatchEvent, type PauseParty } from '@hotpatch/core';
import { isApplyTimeout, releaseFromPlan, type ReleaseToRoll } from '@hotpatch/fleet';
import type { ApplyAnswer, HealthAnswer, RollbackAnswer } from '../agent.js';

/** A restart as recorded: `healthy` turns false when the update it installed is taken off later. */
type RestartAnswer = { readonly after: number; readonly downtimeMinutes: number; healthy: boolean };

/**
 * One kind of answer, by device and key (a patch; a baseline and why it is installed): each device's answers in
 * the order it gave them (a device may be asked the same thing twice: a baseline installed again after a failed
 * rollback), and every device's by key.
 */
export class Answers<T> {
  private readonly byDevice = new Map<string, T[]>();
  private readonly asked = new Map<string, number>();
  private readonly byKey = new Map<string, T[]>();
  set(device: string, key: string, answer: T) {
    const k = `${device}\u0000${key}`;
    let own = this.byDevice.get(k);
    if (own === undefined) this.byDevice.set(k, (own = []));
    own.push(answer);
    let list = this.byKey.get(key);
    if (list === undefined) this.byKey.set(key, (list = []));
    list.push(answer);
  }
  /** The device's answer the n-th time it is asked (n counted here), or undefined past what it answered. */
  own(device: string, key: string): T | undefined {
    const k = `${device}\u0000${key}`;
    const n = this.asked.get(k) ?? 0;
    this.asked.set(k, n + 1);
    return this.byDevice.get(k)?.[n];
  }
  others(key: string): readonly T[] | undefined {
    return this.byKey.get(key);
  }
}

/** A pause or a resume in the recorded log, of a rollout or of a ring: done again at its time in the what-if. */
export interface Pause {
  readonly id: string;
  readonly at: number;
  /** The rollout's id, or the ring's name. */
  readonly of: string;
  readonly type: 'RolloutPaused' | 'RolloutResumed' | 'RingPaused' | 'RingResumed';
  readonly by: PauseParty;
  readonly reason: string;
}

/** The key of a restart's answer: the baseline installed and why the restart was needed. */
export const restartKey = (baseline: string, reason: string | null) => `${baseline}|${reason ?? ''}`;

/**
 * Reads what every device did, step by step, from a recorded log: each device's events are folded through its
 * lifecycle, and an answer is the event that took the device out of the state the agent answers from (applying,
 * applied, rollingBack, needsReboot), after the time since the device entered that state.
 */
export async function observe(recorded: AsyncIterable<HotpatchEvent> | Iterable<HotpatchEvent>) {
  const apply = new Answers<ApplyAnswer>();
  const health = new Answers<HealthAnswer>();
  /** By patch: how long each device had been on it when the log stopped waiting for its verdict. */
  const healthCensored = new Map<string, number[]>();
  const unwatched = (patch: string, after: number) => {
    let list = healthCensored.get(patch);
    if (list === undefined) healthCensored.set(patch, (list = []));
    list.push(after);
  };
  const rollback = new Answers<RollbackAnswer>();
  const restart = new Answers<RestartAnswer>();
  const devices = new Map<string, { state: DeviceState; since: number; installed?: RestartAnswer }>();
  const enrolment = new Map<string, HotpatchEvent[]>();
  const retirements: HotpatchEvent[] = [];
  const lastEvent = new Map<string, number>();
  const setAsideAt = new Map<string, number>();
  const planned: HotpatchEvent[] = [];
  const pauses: Pause[] = [];
  const staged = new Map<string, { baseline: string; requires: readonly string[] }>();
  const rebootReasons = new Map<string, string>();
  const lifecycle = DEVICE_STREAMS.lifecycle;
  let start = Infinity;
  let end = -Infinity;
  for await (const e of recorded) {
    // The service's seals of the log are no fact of the fleet, and their times not the fleet's.
    if (idOfStream('seal', e.stream) !== undefined) continue;
    const t = Date.parse(e.time);
    if (t < start) start = t;
    if (t > end) end = t;
    const rolloutId = idOfStream('rollout', e.stream);
    if (rolloutId !== undefined) {
      if (e.type === 'RolloutPlanned') planned.push(e);
      else if (e.type === 'DeviceSetAside') setAsideAt.set(e.data.device, t);
      else if (e.type === 'RolloutPaused' || e.type === 'RolloutResumed') {
        pauses.push({ id: e.id, at: t, of: rolloutId, type: e.type, by: e.data.by, reason: e.type === 'RolloutPaused' ? e.data.reason : '' });
      }
      continue;
    }
    const ringName = idOfStream('ring', e.stream);
    if (ringName !== undefined) {
      if (e.type === 'RingPaused' || e.type === 'RingResumed') pauses.push({ id: e.id, at: t, of: ringName, type: e.type, by: e.data.by, reason: e.type === 'RingPaused' ? e.data.reason : '' });
      continue;
    }
    const device = deviceIdOf(e.stream)!;
    lastEvent.set(device, t);
    let d = devices.get(device);
    if (d === undefined) devices.set(device, (d = { state: lifecycle.initial as DeviceState, since: t }));
    const before = d.state;
    const after = lifecycle.evolve(before, e, { stream: e.stream, version: e.version }) as DeviceState;
    const waited = t - d.since;
    // A device's enrolment, and the assessment that follows it; its retirement. Facts of the fleet, not of the
    // rollouts: the what-if has them happen at their times.
    if (e.type === 'DeviceEnrolled' && e.version === 1) enrolment.set(device, [e]);
    else if (e.type === 'EligibilityAssessed' && e.version === 2) enrolment.get(device)?.push(e);
    else if (e.type === 'DeviceRetired') retirements.push(e);
    switch (e.type) {
      case 'PatchStaged':
        staged.set(e.data.patch, { baseline: e.data.baseline, requires: e.data.requires });
        break;
      case 'PatchApplied':
        apply.set(device, e.data.patch, { kind: 'applied', after: waited });
        break;
      case 'PatchApplyFailed':
        apply.set(device, e.data.patch, isApplyTimeout(e.data.reason) ? { kind: 'stalled' } : { kind: 'apply-failed', after: waited, reason: e.data.reason });
        break;
      case 'PatchVerified':
        health.set(device, e.data.patch, { healthy: true, after: waited, signal: '' });
        break;
      case 'HealthCheckFailed':
        health.set(device, e.data.patch, { healthy: false, after: waited, signal: e.data.signal });
        break;
      case 'PatchRolledBack':
        rollback.set(device, e.data.patch, { ok: true, after: waited, reason: '' });
        break;
      case 'RollbackFailed':
        rollback.set(device, e.data.patch, { ok: false, after: waited, reason: e.data.reason });
        break;
      case 'RebootRequired':
        if (e.data.baseline !== undefined && !rebootReasons.has(e.data.baseline)) rebootReasons.set(e.data.baseline, e.data.reason);
        // The update just installed is being taken off: the device was unwell on it.
        if (e.data.reason === 'update-uninstall' && d.installed !== undefined) d.installed.healthy = false;
        break;
      case 'BaselineInstalled': {
        const answer: RestartAnswer = { after: waited, downtimeMinutes: Number((e.meta as { downtimeMinutes?: unknown } | undefined)?.downtimeMinutes ?? 0) || 0, healthy: true };
        restart.set(device, restartKey(e.data.baseline, before.context.rebootReason), answer);
        d.installed = answer;
        break;
      }
    }
    // Out of `applied` without a verdict (rolled back at a halt, restarted, retired): its health was never seen.
    if (before.value === 'applied' && after.value !== 'applied' && e.type !== 'PatchVerified' && e.type !== 'HealthCheckFailed') unwatched(before.context.inFlight!.patch, waited);
    if (after.value !== before.value) d.since = t;
    d.state = after;
  }
  for (const d of devices.values()) if (d.state.value === 'applied') unwatched(d.state.context.inFlight!.patch, end - d.since);
  // An agent set aside and never heard of again went silent after its last event.
  const silentFrom = new Map<string, number>();
  for (const [device, at] of setAsideAt) {
    const last = lastEvent.get(device) ?? at;
    if (last <= at) silentFrom.set(device, last + 1);
  }
  return { apply, health, healthCensored, rollback, restart, enrolment, retirements, silentFrom, planned, pauses, staged, rebootReasons, start, end };
}

/** What `observe` read from a recorded log. */
export type Observed = Awaited<ReturnType<typeof observe>>;

/** The recorded releases, planned again from their rollouts' plans (with what device events say, for older logs). */
export function releasesOf(o: Observed) {
  const releases: ReleaseToRoll[] = [];
  const skipped: Array<{ release: string; reason: string }> = [];
  for (const e of o.planned) {
    if (e.type !== 'RolloutPlanned') continue;
    const d = e.data;
    const stage = o.staged.get(d.release);
    const release = releaseFromPlan(d, { ...stage, ...(o.rebootReasons.has(d.release) ? { rebootReason: o.rebootReasons.get(d.release)! } : {}) });
    if (release === undefined) skipped.push({ release: d.release, reason: 'the log names neither the baseline it applies on nor a device it was staged on' });
    else releases.push(release);
  }
  releases.sort((a, b) => (a.releasedAt < b.releasedAt ? -1 : a.releasedAt > b.releasedAt ? 1 : 0));
  return { releases, skipped };
}
