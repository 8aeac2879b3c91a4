/**
 * A rollout on the report's time axis, from what `history --rollout` folds (its stream's events, each with the
 * rollout's view before and after) and what `status --json` reports of it (`progress`): nothing is counted twice.
 */
import { DEVICE_STATES, type RolloutEventData, type RolloutProgress } from '@hotpatch/core';
import { rolloutChanges, type RolloutHistoryStep } from '@hotpatch/replay';
import type { LogCollector } from './collect.js';
import { fleetLanes } from './fleet-lanes.js';
import type { FailureSeries, GateCheck, HaltedDevice, HaltSection, PauseSpan, RingLane, RolloutMark, RolloutSection } from './model.js';

type Data<K extends keyof RolloutEventData> = RolloutEventData[K];
const STATES: readonly string[] = DEVICE_STATES;

export function rolloutSection(id: string, steps: readonly RolloutHistoryStep[], progress: RolloutProgress, collector: LogCollector): RolloutSection {
  const { base, from, to } = collector.window;
  const offset = (time: string) => Date.parse(time) - base;
  const inWindow = (time: string) => Date.parse(time) >= from && Date.parse(time) <= to;
  const marks: RolloutMark[] = [];
  const pauses: PauseSpan[] = [];
  const openPauses: PauseSpan[] = [];
  const setAside = new Map<string, number>();
  const gatesPassed = new Map<string, number>();
  const failures = new Map<string, Array<[number, number]>>(progress.rings.map((r) => [r.name, []]));
  let plan: Data<'RolloutPlanned'> | undefined;
  let haltAt: number | null = null;
  for (const { event, before, after } of steps) {
    const t = offset(event.time);
    const text = rolloutChanges(before, after).join('; ');
    const mark = (kind: RolloutMark['kind'], ring: string | null, more: Partial<RolloutMark> = {}) => {
      if (inWindow(event.time)) marks.push({ t, kind, ring, text, ...more });
    };
    after.rings.forEach((ring, i) => {
      if (ring.failed !== (before?.rings[i]?.failed ?? 0) || (ring.started !== null && (before?.rings[i]?.started ?? null) === null)) failures.get(ring.name)?.push([t, ring.failed]);
    });
    switch (event.type) {
      case 'RolloutPlanned':
        plan = event.data as Data<'RolloutPlanned'>;
        mark('planned', null);
        break;
      case 'RingStarted':
        mark('ringStarted', (event.data as Data<'RingStarted'>).ring);
        break;
      case 'GatePassed': {
        const { ring } = event.data as Data<'GatePassed'>;
        gatesPassed.set(ring, t);
        mark('gatePassed', ring);
        break;
      }
      case 'RolloutPaused': {
        const { by, reason } = event.data as Data<'RolloutPaused'>;
        const span: PauseSpan = { scope: 'rollout', ring: null, by, reason, from: t, to: null };
        pauses.push(span);
        openPauses.push(span);
        mark('paused', null, { by, reason });
        break;
      }
      case 'RolloutResumed': {
        const { by } = event.data as Data<'RolloutResumed'>;
        const i = openPauses.findIndex((p) => p.by === by);
        if (i >= 0) {
          const span = openPauses.splice(i, 1)[0]!;
          pauses[pauses.indexOf(span)] = { ...span, to: t };
        }
        mark('resumed', null, { by });
        break;
      }
      case 'DeviceFailed': {
        const { ring, device, reason } = event.data as Data<'DeviceFailed'>;
        mark('failed', ring, { device, reason });
        break;
      }
      case 'DeviceSetAside': {
        const { ring, device, reason } = event.data as Data<'DeviceSetAside'>;
        setAside.set(device, t);
        mark('setAside', ring, { device, reason });
        break;
      }
    }
    // A rollout halts on the event that takes it past its budget (a DeviceFailed), or on RolloutHalted (a deadline).
    if (after.state === 'halted' && before?.state !== 'halted') {
      haltAt = t;
      mark('halted', after.halt?.ring ?? null, { reason: after.haltReason ?? '' });
    }
    if (after.state === 'completed' && before?.state !== 'completed') mark('completed', null);
  }
  const lanes: RingLane[] = fleetLanes(
    collector,
    progress.rings.map((r) => r.name),
  ).map((lane) => ({ ...lane, devices: lane.devices.map((d) => (setAside.has(d.id) ? { ...d, setAside: setAside.get(d.id)! } : d)) }));
  const gates: GateCheck[] = (plan?.rings ?? []).map((r) => ({
    ring: r.name,
    minVerifiedShare: r.gate.minVerifiedShare,
    maxFailureRate: r.gate.maxFailureRate,
    minSoakHours: r.gate.minSoakHours,
    deadlineDays: r.deadlineDays,
    passedAt: gatesPassed.get(r.name) ?? null,
  }));
  const failureSeries: FailureSeries[] = progress.rings.map((r) => ({ ring: r.name, budget: r.budget, points: failures.get(r.name)! }));
  const ringNames = new Set(progress.rings.map((r) => r.name));
  const allPauses = [...pauses, ...collector.ringPausesInWindow().filter((p) => p.ring !== null && ringNames.has(p.ring))].sort((a, b) => a.from - b.from);
  const halt = progress.halt === null || haltAt === null ? null : haltSection(steps, progress, haltAt, collector);
  return { id, progress, lanes, marks, failures: failureSeries, pauses: allPauses, gates, halt };
}

/**
 * What the halt did to each device of its ring in flight at it: its state then, its steps after, and its outcome
 * (withdrawn, or the outcome it still reported), from the rollout's own events.
 */
function haltSection(steps: readonly RolloutHistoryStep[], progress: RolloutProgress, t: number, collector: LogCollector): HaltSection {
  const view = progress.halt!;
  const instructed = new Set<string>();
  const before = new Map<string, HaltedDevice['outcome']>();
  const since = new Map<string, HaltedDevice['outcome']>();
  let halted = false;
  for (const { event, after } of steps) {
    const data = event.data as { ring?: string; device?: string };
    if (data.ring === view.ring && data.device !== undefined) {
      const outcome = event.type === 'DeviceSucceeded' ? 'succeeded' : event.type === 'DeviceFailed' ? 'failed' : event.type === 'DeviceSetAside' ? 'setAside' : undefined;
      if (event.type === 'DeviceInstructed' && !halted) instructed.add(data.device);
      // The event that halted it is an outcome the halt saw.
      if (outcome !== undefined) (halted ? since : before).set(data.device, outcome);
    }
    if (after.state === 'halted') halted = true;
  }
  const devices: HaltedDevice[] = [...instructed]
    .filter((d) => !before.has(d))
    .sort()
    .map((device) => {
      const band = collector.band(device);
      let stateAtHalt = '';
      const after: Array<{ t: number; state: string }> = [];
      for (let i = 0; i < band.length; i += 2) {
        const state = STATES[band[i + 1]!] ?? '';
        if (band[i]! <= t) stateAtHalt = state;
        else after.push({ t: band[i]!, state });
      }
      return { device, stateAtHalt, after, outcome: since.get(device) ?? 'withdrawn' };
    });
  return { t, view, devices };
}
