// What would another policy have done? A recorded log's fleet and releases run again under another policy, the
// devices answering as they did in the log; both logs' figures and rollout outcomes (see README.md).
import { deviceIdOf, deviceStream, idOfStream, rolloutProgress, seededRandom, TransitionRefusedError, type HotpatchEvent, type PauseParty, type RingPolicy, type RolloutProgress } from '@hotpatch/core';
import { nameBasedIds, timedNameBasedIds } from '@hotpatch/engine';
import { createPackedInMemoryEventStore, inBatch, readLog, type EventStore, type NewEvent } from '@hotpatch/store';
import { simulatedClock, UnknownRingError, UnknownRolloutError, type AgentReport, type FleetPolicy, type Orchestrator } from '@hotpatch/fleet';
import { deviceAgent } from '../agent.js';
import { driveService } from '../drive.js';
import { foldFigures, type ArmFigures } from '../figures.js';
import { observe, releasesOf, type Pause } from './observe.js';
import { recordedAnswers, UNRECORDED, type Unrecorded } from './recorded-answers.js';

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

const HOUR = 3_600_000;

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

const NAMESPACE = '3c8e2d71-94a5-4f06-b1e8-6d0a5c7f2b19';
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

  // The devices answer as they did in the recorded log. A report's id is led by the simulated time the agent decides
  // at, as the simulator's (see timedNameBasedIds).
  const recordedAgents = recordedAnswers(o, { unrecorded, seed: options.seed ?? 1, reportId: (d, now, report) => timedAnswerId(now, `${d.id}|${d.version}|${report.kind}`) });

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
    agent: deviceAgent(recordedAgents.answers, recordedAgents.delivery),
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
    answers: recordedAgents.counts,
    unrecorded,
    estimates: recordedAgents.estimates(),
    interventions: { replayed, notApplied },
    fleetChanges,
    releasesSkipped: skipped,
  };
}
