/**
 * A rollout on the report's time axis, from its track (its events as `history --rollout` folds them, followed as
 * the log was read) and what `status --json` reports of it (`progress`): nothing is counted twice.
 */
import { DEVICE_STATES, type RolloutProgress } from '@hotpatch/core';
import type { LogCollector } from './collect.js';
import { fleetLanes } from './fleet-lanes.js';
import type { FailureSeries, GateCheck, HaltedDevice, HaltSection, RingLane, RolloutSection } from './model.js';
import type { RolloutTrack } from './rollout-track.js';

const STATES: readonly string[] = DEVICE_STATES;

export function rolloutSection(track: RolloutTrack, progress: RolloutProgress, collector: LogCollector): RolloutSection {
  const { base, from, to } = collector.window;
  const inWindow = (t: number) => t >= from && t <= to;
  const rel = (t: number) => t - base;
  const lanes: RingLane[] = fleetLanes(
    collector,
    progress.rings.map((r) => r.name),
  ).map((lane) => ({ ...lane, devices: lane.devices.map((d) => (track.setAside.has(d.id) ? { ...d, setAside: rel(track.setAside.get(d.id)!) } : d)) }));
  const gates: GateCheck[] = (track.plan?.rings ?? []).map((r) => ({
    ring: r.name,
    minVerifiedShare: r.gate.minVerifiedShare,
    maxFailureRate: r.gate.maxFailureRate,
    maxSetAsideShare: r.gate.maxSetAsideShare ?? null,
    minSoakHours: r.gate.minSoakHours,
    deadlineDays: r.deadlineDays,
    passedAt: track.gatesPassed.has(r.name) ? rel(track.gatesPassed.get(r.name)!) : null,
  }));
  const failures: FailureSeries[] = progress.rings.map((r) => ({ ring: r.name, budget: r.budget, points: (track.failures.get(r.name) ?? []).filter(([t]) => inWindow(t)).map(([t, n]) => [rel(t), n] as const) }));
  const ringNames = new Set(progress.rings.map((r) => r.name));
  const pauses = [
    ...track.pauses.filter((p) => p.from <= to && (p.to === null || p.to >= from)).map((p) => ({ ...p, from: rel(Math.max(p.from, from)), to: p.to === null || p.to > to ? null : rel(p.to) })),
    ...collector.ringPausesInWindow().filter((p) => p.ring !== null && ringNames.has(p.ring)),
  ].sort((a, b) => a.from - b.from);
  const marks = track.marks.filter((m) => inWindow(m.t)).map((m) => ({ ...m, t: rel(m.t) }));
  const halt = progress.halt === null || track.haltAt === null ? null : haltSection(track, progress, collector);
  return { id: track.id, progress, lanes, marks, failures, pauses, gates, halt };
}

/** What the halt did to each device of its ring in flight at it: its state then, its steps after, its outcome. */
function haltSection(track: RolloutTrack, progress: RolloutProgress, collector: LogCollector): HaltSection {
  const view = progress.halt!;
  const t = track.haltAt! - collector.window.base;
  const devices: HaltedDevice[] = [...(track.instructed.get(view.ring ?? '') ?? [])]
    .filter((d) => !track.outcomesBefore.has(d))
    .sort()
    .map((device) => {
      // Its state at the halt from all its steps: a window opening after the halt holds none of those before it.
      const stateAtHalt = STATES[collector.stateAt(device, track.haltAt!)] ?? '';
      const band = collector.band(device);
      const after: Array<{ t: number; state: string }> = [];
      for (let i = 0; i < band.length; i += 2) if (band[i]! > t) after.push({ t: band[i]!, state: STATES[band[i + 1]!] ?? '' });
      return { device, stateAtHalt, after, outcome: track.outcomesSince.get(device) ?? 'withdrawn' };
    });
  return { t, view, devices };
}
