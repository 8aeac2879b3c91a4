/**
 * A blast-radius witness as a timeline in the project's format: the rollout's stream (`rollout/HP-MODEL`) and each
 * device's (`device/<ring>-NNN`: enrolled, staged and applying when instructed, applied, verified or failing its
 * health check as the run has it; a silent agent writes nothing), so that `hotpatch history --rollout HP-MODEL` and
 * `hotpatch replay` tell the run. The same run as each device's schedule: what the test that runs the real
 * orchestrator on it scripts its agents with.
 */
import { deviceStream, rolloutStream, type EventEnvelope, type RolloutEventBody } from '@hotpatch/core';
import { nameBasedIds } from '@hotpatch/store';
import { replayPath, type Witness } from './blast.js';
import type { Act } from './model-run.js';
import type { PolicyModel } from './policy-model.js';
import { isApplied, isAppliedEarly, isApplying, type Local } from './population.js';

/** Each device's local state along a run: a device moved by a counted step is the first one (by index) in its local state. */
class Mirror {
  private readonly locals: Local[][];
  constructor(sizes: readonly number[]) {
    this.locals = sizes.map((n) => Array.from({ length: n }, () => 'w'));
  }
  /** The devices a move moves (by index), moved. */
  move(m: { readonly ring: number; readonly from: Local; readonly to: Local; readonly n: number; readonly device?: number }): number[] {
    const ring = this.locals[m.ring]!;
    const out: number[] = [];
    if (m.device !== undefined) out.push(m.device);
    else for (let i = 0; i < ring.length && out.length < m.n; i++) if (ring[i] === m.from) out.push(i);
    for (const d of out) ring[d] = m.to;
    return out;
  }
}

const ids = nameBasedIds('9d3b6c1e-4a7f-4e25-8b0d-2f6a1c9e7d44');
export const MODEL_RELEASE = 'HP-MODEL';
export const MODEL_BASELINE = 'B-MODEL';

/** What happened to one device in the run, in ms since the epoch. */
export interface DeviceSchedule {
  readonly device: string;
  readonly ring: string;
  instructedAt?: number;
  appliedAt?: number;
  /** Its apply is stamped with the instant of a tick and comes after that tick (`q<τ>`: an agent answering at once). */
  appliedAfterTick?: boolean;
  /** When its health was reported, and how. */
  health?: { readonly at: number; readonly healthy: boolean };
  /** Its apply failed (reported) or timed out (the orchestrator's). */
  applyFailed?: { readonly at: number; readonly timeout: boolean };
}

export const deviceName = (ring: string, index: number) => `${ring}-${String(index + 1).padStart(4, '0')}`;

/** The witness's run, device by device: a device moved by a counted step is the first one in its local state. */
export function witnessSchedule(model: PolicyModel, witness: Witness): { schedules: DeviceSchedule[]; steps: ReturnType<typeof replayPath> } {
  const steps = replayPath(model, witness.labels);
  const names = model.policy.rings.map((r) => r.name);
  const mirror = new Mirror(model.sizes);
  const schedules = model.sizes.map((n, r) => Array.from({ length: n }, (_, i): DeviceSchedule => ({ device: deviceName(names[r]!, i), ring: names[r]! })));
  for (const step of steps) {
    for (const act of step.acts) {
      const m = act.move;
      if (m === undefined) continue;
      for (const d of mirror.move(m)) {
        note(schedules[m.ring]![d]!, m.from, m.to, appliedAt(model, m.to, act.at), isTimeout(act.event));
      }
    }
  }
  return { schedules: schedules.flat(), steps };
}

/** When a move's report is stamped: at its tick, but an apply stamped with the tick before at that tick's instant. */
const appliedAt = (model: PolicyModel, to: Local, at: number) => (isAppliedEarly(to) ? at - model.tickMs : at);

function note(s: DeviceSchedule, from: Local, to: Local, at: number, timeout: boolean): void {
  if (from === 'w') s.instructedAt = at;
  else if (isApplying(from) && isApplied(to)) {
    s.appliedAt = at;
    if (isAppliedEarly(to)) s.appliedAfterTick = true;
  }
  else if (isApplying(from) && to === 'fn') s.applyFailed = { at, timeout };
  else if (isApplied(from) && (to === 'v' || to === 'fr')) s.health = { at, healthy: to === 'v' };
}

const isTimeout = (event: RolloutEventBody | null) => event?.type === 'DeviceFailed' && event.data.reason === 'timeout';

const givenUp = (act: Act) => isTimeout(act.event) || (act.event?.type === 'DeviceSetAside' && act.event.data.instructed);

/**
 * A tick's timeouts and silences in the orchestrator's order: it goes through its devices in flight in the order it
 * instructed them (decide-tick.ts, `rollout.pending`), which is the devices' order here (a ring's devices are
 * instructed first by index: `Mirror`); the model takes them local state by local state. The counts, and so every
 * answer, are the same either way (each such event is taken, halted or not); the order decides what the rollout's
 * replay records at a halt among them.
 */
function inOrchestratorOrder<U extends { readonly act: Act; readonly d: number | undefined }>(units: U[]): U[] {
  const first = units.findIndex((u) => givenUp(u.act));
  if (first < 0) return units;
  let end = first;
  while (end < units.length && givenUp(units[end]!.act)) end++;
  const segment = units.slice(first, end).sort((a, b) => a.act.move!.ring - b.act.move!.ring || a.d! - b.d!);
  return [...units.slice(0, first), ...segment, ...units.slice(end)];
}

/** The witness as timeline events (rollout and device streams), in time order. */
export function witnessTimeline(model: PolicyModel, witness: Witness): EventEnvelope[] {
  const { schedules, steps } = witnessSchedule(model, witness);
  const out: Array<Omit<EventEnvelope, 'version' | 'id'>> = [];
  const enrolled = model.time(0) - 24 * 3_600_000;
  const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
  const byDevice = new Map(schedules.map((s) => [s.device, s]));
  const names = model.policy.rings.map((r) => r.name);
  const iso = (ms: number) => new Date(ms).toISOString();
  const device = (s: DeviceSchedule, at: number, type: string, data: object) => out.push({ stream: deviceStream(s.device), type, time: iso(at), data });
  for (const s of schedules) {
    device(s, enrolled, 'DeviceEnrolled', { ...profile, ring: s.ring, baseline: MODEL_BASELINE });
    device(s, enrolled, 'EligibilityAssessed', { eligible: true, reasons: [] });
  }
  out.push({ stream: rolloutStream(MODEL_RELEASE), type: 'RolloutPlanned', time: iso(model.time(0)), data: model.planned().data });
  const mirror = new Mirror(model.sizes);
  for (const step of steps) {
    // One device's part of an act (or an act without a device): what the timeline writes for it.
    const units: Array<{ readonly act: Act; readonly d: number | undefined }> = [];
    for (const act of step.acts) for (const d of act.move === undefined ? [undefined] : mirror.move(act.move)) units.push({ act, d });
    for (const { act, d } of inOrchestratorOrder(units)) {
      const m = act.move;
      const s = m === undefined || d === undefined ? undefined : byDevice.get(deviceName(names[m.ring]!, d))!;
      if (m !== undefined && d !== undefined) {
        const patch = MODEL_RELEASE;
        if (m.from === 'w') {
          device(s!, act.at, 'PatchStaged', { patch, baseline: MODEL_BASELINE, requires: [], liveRevert: true });
          device(s!, act.at, 'PatchApplyStarted', { patch });
        } else if (isApplying(m.from) && isApplied(m.to)) device(s!, appliedAt(model, m.to, act.at), 'PatchApplied', { patch });
        else if (isApplying(m.from) && m.to === 'fn') {
          device(s!, act.at, 'PatchApplyFailed', { patch, reason: isTimeout(act.event) ? `timed out after ${model.policy.applyTimeoutMinutes} min` : 'apply failed' });
        } else if (m.to === 'v') device(s!, act.at, 'PatchVerified', { patch });
        else if (m.to === 'fr') device(s!, act.at, 'HealthCheckFailed', { patch, signal: 'health check failed' });
      }
      if (act.event !== null) {
        const data = { ...(act.event.data as object) } as Record<string, unknown>;
        if ('device' in data && s !== undefined) data.device = s.device;
        out.push({ stream: rolloutStream(MODEL_RELEASE), type: act.event.type, time: iso(act.at), data });
      }
    }
  }
  const versions = new Map<string, number>();
  return out.map((e, i) => {
    const version = (versions.get(e.stream) ?? 0) + 1;
    versions.set(e.stream, version);
    return { ...e, id: ids(`${e.stream}#${version}#${i}`), version } as EventEnvelope;
  });
}
