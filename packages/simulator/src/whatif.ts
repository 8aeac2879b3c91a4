/**
 * What would another policy have done? The incident responder's last question, answered from a recorded log: its
 * fleet and its releases run again through the orchestrator under another policy, on a simulated clock over the
 * same span, against agents that answer as the recorded devices did — the same apply result, health verdict,
 * rollback result and restart, after the same delay, for the same device and patch. The answer is a second log
 * (written to a store of its own, never the recorded one) and the same figures and rollout outcomes for both.
 *
 * Under another policy the service asks things the recorded one never did (a ring the recorded rollout never
 * reached, say). Such an answer is taken from what the same release did on other devices of the recorded log
 * (drawn with a seed; a health verdict with the release's failure share estimated from what the log saw, counting
 * the devices it stopped watching), or, when the log never shows the release at that step, the ordinary outcome
 * (applied, healthy, rolled back, restarted: the defaults below); the result counts answers of each kind, so that
 * a reader knows how much of the what-if is recorded fact, and two other modes give the pessimistic and the
 * optimistic bounds.
 */
import { DEVICE_STREAMS, deviceIdOf, deviceStream, idOfStream, rolloutProgress, seededRandom, TransitionRefusedError, type DeviceState, type Random, type PauseParty, type HotpatchEvent, type RingPolicy, type RolloutProgress } from '@hotpatch/core';
import { nameBasedIds, timedNameBasedIds } from '@hotpatch/engine';
import { createPackedInMemoryEventStore, inBatch, readLog, type EventStore, type NewEvent } from '@hotpatch/store';
import { releaseFromPlan, simulatedClock, UnknownRingError, UnknownRolloutError, type AgentReport, type FleetPolicy, type Orchestrator, type ReleaseToRoll } from '@hotpatch/fleet';
import { driveService, type Agent } from './drive.js';
import { foldFigures, type ArmFigures } from './figures.js';

export interface WhatIfOptions {
  /**
   * The recorded log, in global order: its events (a timeline file's, a store's readAll), or a function that reads
   * it from the start each time it is called (it is read twice: for the devices' answers, then for its figures), so
   * that a log larger than memory is read page by page (`() => readLog(store)`).
   */
  readonly recorded: Iterable<HotpatchEvent> | (() => AsyncIterable<HotpatchEvent> | Iterable<HotpatchEvent>);
  /** The policy to run the recorded releases under. */
  readonly policy: FleetPolicy;
  /** Where the what-if log is written: an empty store (default: a new packed in-memory one, about 80 bytes an event). */
  readonly store?: EventStore;
  /** Seeds the draws of answers the recorded log does not give (default 1). */
  readonly seed?: number;
  /**
   * How a step the log never shows for a device is answered:
   * - 'estimate' (default): a health verdict is drawn with the release's estimated failure share (see
   *   `failureShare`: the devices still soaking when the log stopped watching count as not failed up to then),
   *   its timing and signal from the release's recorded verdicts; other steps as 'other-devices';
   * - 'other-devices': as the same release did on another device of the log, drawn uniformly. Where a rollout
   *   halted, the devices seen failing are the ones that reported first, so this is the pessimistic bound;
   * - 'ordinary': every unseen step went well (the ordinary outcome), the optimistic bound.
   * A release the log never shows at that step gets the ordinary outcome in every mode.
   */
  readonly unrecorded?: Unrecorded;
  /** Called about once per simulated day. */
  readonly onProgress?: (progress: { readonly at: string; readonly share: number }) => void;
}

/** A rollout as it ended: its progress ring by ring, when it halted, and how many devices it instructed. */
export interface RolloutOutcome extends RolloutProgress {
  readonly haltedAt: string | null;
  readonly instructed: number;
  readonly failed: number;
}

export interface WhatIfSide {
  readonly figures: ArmFigures;
  readonly rollouts: readonly RolloutOutcome[];
}

export interface WhatIfResult {
  readonly start: string;
  readonly end: string;
  readonly devices: number;
  /** The rings the recorded log's first rollout was planned with (the recorded policy, as far as the log says). */
  readonly recordedRings: readonly RingPolicy[];
  readonly rings: readonly RingPolicy[];
  readonly recorded: WhatIfSide;
  readonly whatIf: WhatIfSide;
  /**
   * The agents' answers: as the device itself did in the recorded log; as the same release did on another device
   * of the log; or the ordinary outcome, where the log never shows the release at that step.
   */
  readonly answers: { readonly recorded: number; readonly fromOtherDevices: number; readonly estimated: number; readonly ordinary: number };
  /** How steps the log never shows for a device were answered (see WhatIfOptions.unrecorded). */
  readonly unrecorded: Unrecorded;
  /**
   * The health of each release whose verdicts were estimated ('estimate' only): the verdicts the log holds, how
   * many of them were failures, how many devices it stopped watching before their verdict (censored), and the
   * failure share estimated from them.
   */
  readonly estimates: ReadonlyArray<{
    readonly release: string;
    readonly verdicts: number;
    readonly failed: number;
    readonly censored: number;
    readonly failureShare: number;
    /** A 90% bootstrap interval around it (see failureShareInterval). */
    readonly interval: readonly [low: number, high: number];
  }>;
  /**
   * The pauses and resumes of the recorded log (a tenant's change freeze, the service's incident), done again at
   * their times; those the what-if's rollout could not take (it had already halted or completed, or was not
   * planned) are listed with the reason.
   */
  readonly interventions: {
    readonly replayed: number;
    readonly notApplied: ReadonlyArray<{ readonly rollout?: string; readonly ring?: string; readonly type: Pause['type']; readonly by: PauseParty; readonly at: string; readonly why: string }>;
  };
  /**
   * The fleet's own changes in the log, made again at their times: devices enrolled after the log's first moment
   * (present in the what-if from their enrolment on), and devices retired.
   */
  readonly fleetChanges: { readonly enrolledLater: number; readonly retired: number };
  /** Releases the log does not describe well enough to plan again (a hotpatch whose baseline it never names). */
  readonly releasesSkipped: ReadonlyArray<{ readonly release: string; readonly reason: string }>;
}

export type Unrecorded = 'estimate' | 'other-devices' | 'ordinary';
const UNRECORDED: readonly Unrecorded[] = ['estimate', 'other-devices', 'ordinary'];

/**
 * The share of a release's devices that fail their health check, from what a log saw: verdicts (failed or
 * healthy, each after so long on the patch) and devices it stopped watching before their verdict came (rolled
 * back at a halt, restarted, or still soaking at the log's end), each after so long. A plain share of the verdicts
 * overstates failures where a rollout halted: the failures that came first are all in, and the devices still
 * soaking are not. This is the Aalen–Johansen estimate of the cumulative incidence of failure, with healthy
 * verdicts as the competing outcome: at each time a verdict came, the devices still waiting (not yet answered,
 * not yet unwatched) are the ones at risk. Beyond the longest time the log watched, nothing is known: a device
 * still waiting then counts as not failing (so the estimate leans low when the log stopped watching early).
 */
export function failureShare(verdicts: ReadonlyArray<{ readonly healthy: boolean; readonly after: number }>, censored: readonly number[]): number {
  // Verdicts before unwatched devices at equal times (a device unwatched at t was still at risk at t).
  const times = [...verdicts.map((v) => [v.after, v.healthy ? 1 : 0] as const), ...censored.map((c) => [c, 2] as const)].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let atRisk = times.length;
  let waiting = 1;
  let failed = 0;
  for (let i = 0; i < times.length; ) {
    const t = times[i]![0];
    let fail = 0;
    let ok = 0;
    let gone = 0;
    for (; i < times.length && times[i]![0] === t; i++) {
      const kind = times[i]![1];
      if (kind === 0) fail++;
      else if (kind === 1) ok++;
      else gone++;
    }
    if (fail + ok > 0) {
      failed += (waiting * fail) / atRisk;
      waiting *= 1 - (fail + ok) / atRisk;
    }
    atRisk -= fail + ok + gone;
  }
  return failed;
}

/**
 * How far `failureShare` can be trusted: a percentile bootstrap interval. The devices (each with its verdict, or
 * the time it was unwatched) are drawn again with replacement, `resamples` times, and the share computed for each
 * draw; the interval holds the middle `level` of those shares. Deterministic for a generator's seed. Few verdicts
 * give a wide interval, which is the point: the what-if's draws come from the point estimate, and the interval
 * says how much another log of the same fleet could have moved it.
 */
export function failureShareInterval(
  verdicts: ReadonlyArray<{ readonly healthy: boolean; readonly after: number }>,
  censored: readonly number[],
  random: Random,
  options: { readonly resamples?: number; readonly level?: number } = {},
): readonly [low: number, high: number] {
  const resamples = options.resamples ?? 400;
  const level = options.level ?? 0.9;
  const n = verdicts.length + censored.length;
  if (n === 0) return [0, 0];
  const shares: number[] = [];
  const v: Array<{ healthy: boolean; after: number }> = [];
  const c: number[] = [];
  for (let r = 0; r < resamples; r++) {
    v.length = 0;
    c.length = 0;
    for (let k = 0; k < n; k++) {
      const i = random.int(0, n - 1);
      if (i < verdicts.length) v.push(verdicts[i]!);
      else c.push(censored[i - verdicts.length]!);
    }
    shares.push(failureShare(v, c));
  }
  shares.sort((a, b) => a - b);
  const at = (q: number) => shares[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]!;
  return [at((1 - level) / 2), at(1 - (1 - level) / 2)];
}

/** The ordinary outcomes, where the recorded log gives none for a release at that step. */
export const ORDINARY_OUTCOMES = {
  applyMinutes: 6,
  healthHours: 2,
  rollbackMinutes: 6,
  restartHours: 12,
  downtimeMinutes: 25,
} as const;

type ApplyAnswer = { readonly kind: 'applied'; readonly after: number } | { readonly kind: 'apply-failed'; readonly after: number; readonly reason: string } | { readonly kind: 'stalled' };
type HealthAnswer = { readonly healthy: boolean; readonly after: number; readonly signal: string };
type RollbackAnswer = { readonly ok: boolean; readonly after: number; readonly reason: string };
type RestartAnswer = { readonly after: number; downtimeMinutes: number; healthy: boolean };

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** What the orchestrator records as an apply's failure when it timed the apply out (the agent never answered). */
const TIMED_OUT = 'timed out';
const UNWELL = 'unwell on the update (as recorded)';

/**
 * One kind of answer, by device and key (a patch; a baseline and why it is installed): each device's answers in
 * the order it gave them (a device may be asked the same thing twice: a baseline installed again after a failed
 * rollback), and every device's by key.
 */
class Answers<T> {
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
interface Pause {
  readonly id: string;
  readonly at: number;
  /** The rollout's id, or the ring's name. */
  readonly of: string;
  readonly type: 'RolloutPaused' | 'RolloutResumed' | 'RingPaused' | 'RingResumed';
  readonly by: PauseParty;
  readonly reason: string;
}

/** The key of a restart's answer: the baseline installed and why the restart was needed. */
const restartKey = (baseline: string, reason: string | null) => `${baseline}|${reason ?? ''}`;

/**
 * Reads what every device did, step by step, from a recorded log: each device's events are folded through its
 * lifecycle, and an answer is the event that took the device out of the state the agent answers from (applying,
 * applied, rollingBack, needsReboot), after the time since the device entered that state.
 */
async function observe(recorded: AsyncIterable<HotpatchEvent> | Iterable<HotpatchEvent>) {
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
        apply.set(device, e.data.patch, e.data.reason.startsWith(TIMED_OUT) ? { kind: 'stalled' } : { kind: 'apply-failed', after: waited, reason: e.data.reason });
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

/** The recorded releases, planned again from their rollouts' plans (with what device events say, for older logs). */
function releasesOf(o: Awaited<ReturnType<typeof observe>>) {
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

/** A log's figures and rollout outcomes. */
async function sideOf(events: Iterable<HotpatchEvent> | AsyncIterable<HotpatchEvent>, months: number, end: string): Promise<WhatIfSide> {
  // When each rollout halted: the time of the event that took it there (a failure past the budget, a deadline).
  const haltedAt = new Map<string, string>();
  const { figures, projection } = await foldFigures(events, months, end, (e, p) => {
    const id = idOfStream('rollout', e.stream);
    if (id === undefined) return;
    if (!haltedAt.has(id) && p.rollouts.get(id)?.state.value === 'halted') haltedAt.set(id, e.time);
  });
  const rollouts = [...projection.rollouts.values()].map((r): RolloutOutcome => {
    const progress = rolloutProgress(r.id, r.state);
    return { ...progress, haltedAt: haltedAt.get(r.id) ?? null, instructed: r.instructed.size, failed: progress.rings.reduce((n, g) => n + g.failed, 0) };
  });
  return { figures, rollouts };
}

/** A report without the agent's id and device (added by the agent). */
type WithoutAgent<R> = R extends AgentReport ? Omit<R, 'id' | 'device'> : never;
type ReportBody = WithoutAgent<AgentReport>;

const NAMESPACE = '3c8e2d71-94a5-4f06-b1e8-6d0a5c7f2b19';
/** A 32-bit seed from a text (FNV-1a). */
const hashSeed = (text: string) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
};
const answerId = nameBasedIds(NAMESPACE);
const timedAnswerId = timedNameBasedIds(NAMESPACE);

export async function whatIf(options: WhatIfOptions): Promise<WhatIfResult> {
  // Everything is checked before anything is written.
  const unrecorded = options.unrecorded ?? 'estimate';
  if (!UNRECORDED.includes(unrecorded)) throw new RangeError(`unrecorded: ${UNRECORDED.map((u) => `'${u}'`).join(', ')}; not ${JSON.stringify(unrecorded)}`);
  const source = options.recorded;
  const recorded = typeof source === 'function' ? source : () => source;
  const o = await observe(recorded());
  if (o.enrolment.size === 0) throw new RangeError('the recorded log holds no device: nothing to run again');
  const start = new Date(o.start).toISOString();
  const end = new Date(o.end).toISOString();
  const months = Math.max(1 / 30, (o.end - o.start) / (30.4375 * 24 * HOUR));
  const { releases, skipped } = releasesOf(o);
  const store = options.store ?? createPackedInMemoryEventStore();
  if ((await store.readAll({ limit: 1 })).length > 0) throw new RangeError('the what-if store must be empty: the what-if log is written there');

  // The fleet as the log enrolled it: each device's enrolment and first assessment, as recorded. Those of the
  // log's first moment go in now; later ones (a device that joined the fleet mid-log) and retirements are made at
  // their times as the what-if runs, so that no rollout reaches a device before it joined or after it left.
  const copy = (e: HotpatchEvent, why: string): NewEvent => ({ id: answerId(`${why}|${e.id}`), type: e.type, time: e.time, data: e.data, ...(e.meta !== undefined ? { meta: e.meta } : {}) });
  const later: Array<{ at: number; device: string; event: NewEvent }> = [];
  const devices: Array<[string, NewEvent[]]> = [];
  for (const [device, events] of o.enrolment) {
    const now: NewEvent[] = [];
    for (const e of events) {
      const at = Date.parse(e.time);
      if (at <= o.start) now.push(copy(e, 'enrolment'));
      else later.push({ at, device, event: copy(e, 'enrolment') });
    }
    if (now.length > 0) devices.push([device, now]);
  }
  for (const e of o.retirements) later.push({ at: Date.parse(e.time), device: deviceIdOf(e.stream)!, event: copy(e, 'retirement') });
  for (let i = 0; i < devices.length; i += 1000) {
    await inBatch(store, async () => {
      for (const [device, copies] of devices.slice(i, i + 1000)) await store.appendToStream(deviceStream(device), copies, { expectedVersion: 'no_stream' });
    });
  }
  const fleetChanges = { enrolledLater: new Set(later.filter((l) => l.event.type === 'DeviceEnrolled').map((l) => l.device)).size, retired: o.retirements.length };
  const membership = later.map(({ at, device, event }) => ({
    at,
    run: async (orchestrator: Orchestrator) => {
      await store.appendToStream(deviceStream(device), [event]);
      await orchestrator.sync();
    },
  }));

  const random = seededRandom(options.seed ?? 1);
  const answers = { recorded: 0, fromOtherDevices: 0, estimated: 0, ordinary: 0 };
  const answer = <T>(kind: Answers<T>, device: string, key: string, ordinary: T): T => {
    const own = kind.own(device, key);
    if (own !== undefined) {
      answers.recorded++;
      return own;
    }
    const others = unrecorded === 'ordinary' ? undefined : kind.others(key);
    if (others !== undefined && others.length > 0) {
      answers.fromOtherDevices++;
      return others[random.int(0, others.length - 1)]!;
    }
    answers.ordinary++;
    return ordinary;
  };

  // 'estimate': each release's health, estimated once, when first needed.
  const estimates = new Map<string, { share: number; interval: readonly [number, number]; failed: HealthAnswer[]; healthy: HealthAnswer[]; censored: number }>();
  const healthAnswer = (device: string, patch: string): HealthAnswer => {
    const ordinary: HealthAnswer = { healthy: true, after: ORDINARY_OUTCOMES.healthHours * HOUR, signal: '' };
    if (unrecorded !== 'estimate') return answer(o.health, device, patch, ordinary);
    const own = o.health.own(device, patch);
    if (own !== undefined) {
      answers.recorded++;
      return own;
    }
    let estimate = estimates.get(patch);
    if (estimate === undefined) {
      const verdicts = o.health.others(patch) ?? [];
      const censored = o.healthCensored.get(patch) ?? [];
      estimate = {
        share: failureShare(verdicts, censored),
        // Its own generator (seeded from the what-if's seed and the release), so that the answers' draws are not moved.
        interval: failureShareInterval(verdicts, censored, seededRandom(hashSeed(`${options.seed ?? 1}|${patch}`))),
        failed: verdicts.filter((v) => !v.healthy),
        healthy: verdicts.filter((v) => v.healthy),
        censored: censored.length,
      };
      estimates.set(patch, estimate);
    }
    if (estimate.failed.length + estimate.healthy.length === 0) {
      answers.ordinary++;
      return ordinary;
    }
    answers.estimated++;
    const pool = random.chance(estimate.share) ? estimate.failed : estimate.healthy;
    // A release the log saw only fail (its healthy devices all unwatched): a healthy verdict at the ordinary time.
    return pool.length > 0 ? pool[random.int(0, pool.length - 1)]! : ordinary;
  };

  const agent: Agent = (d, now, push) => {
    const id = d.id;
    const silent = o.silentFrom.get(id);
    const send = (at: number, report: ReportBody) => {
      if (silent !== undefined && at >= silent) return;
      // Led by the simulated time the agent decides at, as the simulator's (see timedNameBasedIds).
      push(at, { ...report, id: timedAnswerId(now, `${id}|${d.version}|${report.kind}`), device: id } as AgentReport);
    };
    const { value, context } = d.state;
    const patch = context.inFlight?.patch;
    switch (value) {
      case 'applying': {
        const a = answer(o.apply, id, patch!, { kind: 'applied', after: ORDINARY_OUTCOMES.applyMinutes * MINUTE } as ApplyAnswer);
        if (a.kind === 'stalled') return;
        return a.kind === 'applied' ? send(now + a.after, { kind: 'applied', patch: patch! }) : send(now + a.after, { kind: 'apply-failed', patch: patch!, reason: a.reason });
      }
      case 'applied': {
        const h = healthAnswer(id, patch!);
        return send(now + h.after, { kind: 'health', patch: patch!, healthy: h.healthy, ...(h.healthy ? {} : { signal: h.signal }) });
      }
      case 'rollingBack': {
        const r = answer(o.rollback, id, patch!, { ok: true, after: ORDINARY_OUTCOMES.rollbackMinutes * MINUTE, reason: '' });
        return send(now + r.after, r.ok ? { kind: 'rolled-back', patch: patch! } : { kind: 'rollback-failed', patch: patch!, reason: r.reason });
      }
      case 'needsReboot': {
        const baseline = context.rebootBaseline ?? context.baseline!;
        const r = answer(o.restart, id, restartKey(baseline, context.rebootReason), { after: ORDINARY_OUTCOMES.restartHours * HOUR, downtimeMinutes: ORDINARY_OUTCOMES.downtimeMinutes, healthy: true });
        // Going back to the update before is well, as the orchestrator assumes.
        const healthy = context.rebootReason === 'update-uninstall' || r.healthy;
        return send(now + r.after, { kind: 'baseline-installed', baseline, ...(healthy ? {} : { healthy: false, signal: UNWELL }), meta: { downtimeMinutes: r.downtimeMinutes } });
      }
    }
  };

  // People's pauses and resumes, at their recorded times, with ids of their own (so that the what-if log is the
  // same for the same inputs).
  let replayed = 0;
  const notApplied: Array<WhatIfResult['interventions']['notApplied'][number]> = [];
  const pauseAndResume = o.pauses.map((p) => ({
    at: p.at,
    run: async (orchestrator: Orchestrator) => {
      const id = answerId(`intervention|${p.id}`);
      try {
        if (p.type === 'RolloutPaused') await orchestrator.pause(p.of, p.by, p.reason, id);
        else if (p.type === 'RolloutResumed') await orchestrator.resume(p.of, p.by, id);
        else if (p.type === 'RingPaused') await orchestrator.pauseRing(p.of, p.by, p.reason, id);
        else await orchestrator.resumeRing(p.of, p.by, id);
        replayed++;
      } catch (error) {
        if (!(error instanceof TransitionRefusedError || error instanceof UnknownRolloutError || error instanceof UnknownRingError)) throw error;
        const at = new Date(p.at).toISOString();
        if (p.type === 'RingPaused' || p.type === 'RingResumed') {
          // The policy asked about has no such ring, say.
          notApplied.push({ ring: p.of, type: p.type, by: p.by, at, why: error.message });
        } else {
          const state = orchestrator.projection.rollouts.get(p.of)?.state.value;
          notApplied.push({ rollout: p.of, type: p.type, by: p.by, at, why: state === undefined ? 'the rollout was not planned yet' : `the rollout was ${state}` });
        }
      }
    },
  }));

  await driveService({
    store,
    policy: options.policy,
    // In time order; at the same time, the fleet's changes first (stable sort).
    interventions: [...membership, ...pauseAndResume].sort((a, b) => a.at - b.at),
    clock: simulatedClock(start),
    start,
    end,
    releases,
    agent,
    meta: { source: 'whatif' },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });

  const firstPlan = o.planned.find((e) => e.type === 'RolloutPlanned');
  return {
    start,
    end,
    devices: o.enrolment.size,
    recordedRings: firstPlan?.type === 'RolloutPlanned' ? firstPlan.data.rings : [],
    rings: options.policy.rings,
    recorded: await sideOf(recorded(), months, end),
    whatIf: await sideOf(readLog(store), months, end),
    answers,
    unrecorded,
    estimates: [...estimates]
      .filter(([, e]) => e.failed.length + e.healthy.length > 0)
      .map(([release, e]) => ({ release, verdicts: e.failed.length + e.healthy.length, failed: e.failed.length, censored: e.censored, failureShare: e.share, interval: e.interval })),
    interventions: { replayed, notApplied },
    fleetChanges,
    releasesSkipped: skipped,
  };
}
