/**
 * One rollout driven hour by hour (a tick, then each device's agent reporting what it did), through a store that may
 * die at the k-th commit of one unit of work; after a crash a fresh instance over the same log carries on from the
 * next hour, and the agents resend what did not get through (same ids). What the crash tests and the gap fixtures
 * share. Test-only: not built nor published.
 */
import { eligibleProfile } from '@hotpatch/core/testing';
import type { DeviceState, RolloutState } from '@hotpatch/core';
import { createEngine, timedNameBasedIds } from '@hotpatch/engine';
import type { EventStore, RecordedEvent } from '@hotpatch/store';
import { simulatedClock } from '../../clock.js';
import type { HealedRecord } from '../../projection/healed.js';
import type { AgentReport, Orchestrator } from '../api.js';
import { createOrchestrator } from '../shell.js';
import { crashStore, ProcessKilled, type CrashStore } from './crash-store.js';
import { HOTPATCH, POLICY, RELEASED } from './given.js';
// The simulator's device agent, by path: its modules import fleet's types only, so no package cycle (see its README).
import { deviceAgent } from '../../../../simulator/src/agent.js';
import { scriptedAnswers } from '../../../../simulator/src/scripted-answers.js';

/** The fleet: three pilot devices and six broad ones; p3, b5 and b6 cannot take hotpatches (a restart instead). */
export const FLEET = [
  ...['p1', 'p2', 'p3'].map((id) => ({ id, ring: 'pilot', eligible: id !== 'p3' })),
  ...['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((id) => ({ id, ring: 'broad', eligible: id !== 'b5' && id !== 'b6' })),
];
const HOUR = 3_600_000;
/** The hours ticked: the pilot ring's first day and a half, then the broad ring's (its deferral is three days). */
export const HOURS = [...Array.from({ length: 31 }, (_, h) => h), ...Array.from({ length: 31 }, (_, h) => 72 + h)];
const at = (hour: number) => new Date(Date.parse(RELEASED) + hour * HOUR).toISOString();
const reportIds = timedNameBasedIds('3f0c9a52-7d41-4e8b-9b6a-51c2e8d0f4a7');

/** Where a run crashes: the unit of work (counted from 0: the plan, then each tick and report in order) and the commit. */
export interface Crash {
  readonly unit: number;
  readonly k: number;
}

/** How a run opens its store (again after a crash: a fresh process), and how it closes it. */
export interface StoreOpener {
  open(): Promise<EventStore>;
  close(store: EventStore): Promise<void>;
}

export interface RunOptions {
  readonly crash?: Crash;
  /** Each append commits on its own (see crashStore). */
  readonly hideBatch?: boolean;
  /** Stop at the crash (the log as the killed process left it), instead of carrying on with a fresh instance. */
  readonly stopAtCrash?: boolean;
  /** Appends lost (acknowledged, never kept) in the crashing unit (see crashStore's `lose`). */
  readonly lose?: (stream: string) => boolean;
}

export interface RunResult {
  /** The commits of each unit of work (a run that did not crash). */
  readonly commits: ReadonlyArray<{ readonly unit: number; readonly kind: 'plan' | 'tick' | 'report'; readonly commits: number }>;
  readonly crashed: boolean;
  readonly devices: ReadonlyMap<string, DeviceState>;
  readonly rollout: RolloutState | undefined;
  readonly outcomes: ReadonlyMap<string, string>;
  /** Each gate passed: the ring, and when. */
  readonly gates: ReadonlyArray<{ readonly ring: string; readonly at: string }>;
  readonly events: readonly RecordedEvent[];
  readonly healed: readonly HealedRecord[];
}

/** Runs the rollout to its end (or to the crash, with `stopAtCrash`). */
export async function runRollout(opener: StoreOpener, options: RunOptions = {}): Promise<RunResult> {
  const clock = simulatedClock(RELEASED);
  let inner = await opener.open();
  const engine = createEngine({ store: inner, clock: () => clock.now() });
  for (const d of FLEET) {
    // Ids of their own, so that the same run writes the same log, byte for byte.
    const id = (step: string) => reportIds(Date.parse(RELEASED), `${step}|${d.id}`);
    await engine.execute({ type: 'EnrolDevice', id: id('enrol'), device: d.id, profile: d.eligible ? eligibleProfile : { ...eligibleProfile, vbs: false }, ring: d.ring, baseline: HOTPATCH.baseline });
    await engine.execute({ type: 'AssessEligibility', id: id('assess'), device: d.id, latestBaseline: HOTPATCH.baseline });
  }
  let crash: CrashStore = crashStore(inner, { ...(options.hideBatch ? { hideBatch: true } : {}), ...(options.lose ? { lose: options.lose } : {}) });
  let o: Orchestrator = createOrchestrator({ store: crash.store, clock, policy: POLICY });
  const commits: Array<{ unit: number; kind: 'plan' | 'tick' | 'report'; commits: number }> = [];
  let unit = 0;
  let crashed = false;
  /** Runs a unit of work; false when the process was killed in it. */
  const work = async (kind: 'plan' | 'tick' | 'report', run: () => Promise<unknown>): Promise<boolean> => {
    const n = unit++;
    crash.arm(options.crash?.unit === n ? options.crash.k : undefined);
    try {
      await run();
    } catch (error) {
      if (!(error instanceof ProcessKilled)) throw error;
      crashed = true;
      return false;
    }
    commits.push({ unit: n, kind, commits: crash.commits });
    return true;
  };
  // The agents: each asked once per version of its device, each report kept until it got through.
  const agent = deviceAgent(
    scriptedAnswers({
      // b1's health report overtakes its apply report: the report with the most commits.
      apply: (d) => ({ kind: 'applied', after: 0, ...(d.id === 'b1' ? { healthFirst: { healthy: true, after: 0, signal: '' } } : {}) }),
      health: () => ({ healthy: true, after: 0, signal: '' }),
      restart: () => ({ after: 0 }),
      reportId: (d, now, body) => reportIds(now, `${d.id}|${d.version}|${body.kind}`),
    }),
  );
  const asked = new Map<string, number>();
  const outbox: AgentReport[] = [];

  /** A fresh process after a crash: the store opened again, a new instance over the same log. */
  const restart = async () => {
    await opener.close(inner);
    inner = await opener.open();
    crash = crashStore(inner);
    o = createOrchestrator({ store: crash.store, clock, policy: POLICY });
    await o.sync();
  };
  const agents = () => {
    for (const d of [...o.projection.devices.values()]) {
      if (asked.get(d.id) === d.version) continue;
      asked.set(d.id, d.version);
      agent(d, clock.now().getTime(), (_, report) => outbox.push(report));
    }
  };
  // Each hour: what did not get through before (an agent retrying), the tick, then what the agents have to say. A
  // process killed is started again at once (the agents' retries reach the new one); its next tick is the next hour's.
  const phases = [() => deliver(outbox, (r) => work('report', () => o.report(r))), () => work('tick', () => o.tick()), async () => (agents(), deliver(outbox, (r) => work('report', () => o.report(r))))];
  let stopped = !(await work('plan', () => o.planRollout(HOTPATCH)));
  if (stopped && !options.stopAtCrash) await restart(), (stopped = false);
  for (const hour of HOURS) {
    if (stopped) break;
    clock.jumpTo(at(hour));
    for (const phase of phases) {
      if (await phase()) continue;
      if (options.stopAtCrash) {
        stopped = true;
        break;
      }
      await restart();
    }
  }
  if (!stopped) await o.sync();
  const events = await inner.readAll();
  const rollout = o.projection.rollouts.get(HOTPATCH.id);
  const result: RunResult = {
    commits,
    crashed,
    devices: new Map([...o.projection.devices.values()].map((d) => [d.id, d.state])),
    rollout: rollout?.state,
    outcomes: new Map(rollout?.outcomes ?? []),
    gates: events.filter((e) => e.type === 'GatePassed').map((e) => e.data as { ring: string; at: string }),
    events,
    healed: [...o.projection.healed.values()],
  };
  await opener.close(inner);
  return result;
}

/** Delivers the reports in order, each removed once it got through; false when the process was killed. */
async function deliver(outbox: AgentReport[], send: (report: AgentReport) => Promise<boolean>): Promise<boolean> {
  while (outbox.length > 0) {
    if (!(await send(outbox[0]!))) return false;
    outbox.shift();
  }
  return true;
}
