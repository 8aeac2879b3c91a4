/**
 * What a run's log must say, whatever the interleaving: each counted on the log itself (not on the orchestrator's
 * records), the rollout machine used only to tell when the rollout halted and what budget its ring resolved.
 */
import { RESTING_STATES, rolloutLifecycle, streamPrefix, type RolloutEventBody, type RolloutState } from '@hotpatch/core';
import type { RecordedEvent } from '@hotpatch/store';

export interface Violation {
  /** The check: `instructedTwice`, `outcomeTwice`, `failuresWithinBudget`, `haltedInstructsNothing`, `resting`, `projection`, `settled`, `callFailed`. */
  readonly check: string;
  readonly detail: string;
}

const OUTCOMES = new Set(['DeviceSucceeded', 'DeviceFailed', 'DeviceSetAside']);
/** The device events that instruct it (the agent acts on them). */
const DEVICE_INSTRUCTIONS = new Set(['PatchStaged', 'PatchApplyStarted']);

/** Counts the keys seen more than once. */
function twice(keys: readonly string[]): string[] {
  const seen = new Map<string, number>();
  for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
}

const deviceOf = (e: RecordedEvent) => (e.data as { device: string }).device;
const patchOf = (e: RecordedEvent) => (e.data as { patch: string }).patch;

/** No instruction twice for one device and release: the rollout's DeviceInstructed, the device's stage and apply; each outcome once. */
export function checkOnce(log: readonly RecordedEvent[]): Violation[] {
  const v: Violation[] = [];
  const instructed = log.filter((e) => e.type === 'DeviceInstructed').map((e) => `${e.stream} ${deviceOf(e)}`);
  const steps = log.filter((e) => DEVICE_INSTRUCTIONS.has(e.type)).map((e) => `${e.stream} ${e.type} ${patchOf(e)}`);
  for (const k of [...twice(instructed), ...twice(steps)]) v.push({ check: 'instructedTwice', detail: k });
  for (const k of twice(log.filter((e) => OUTCOMES.has(e.type)).map((e) => `${e.stream} ${deviceOf(e)}`))) v.push({ check: 'outcomeTwice', detail: k });
  return v;
}

interface RingCount {
  instructed: number;
  settled: number;
  failed: number;
  /** The devices in flight right before the event that halted the rollout in this ring. */
  inFlightAtHalt?: number;
}

/**
 * Per rollout: a ring's failures never above its budget plus the devices in flight when the rollout halted; once
 * halted, nothing instructed after the halt: no DeviceInstructed, and no device staged or started on the release.
 */
export function checkRollouts(log: readonly RecordedEvent[]): Violation[] {
  const v: Violation[] = [];
  for (const stream of new Set(log.filter((e) => e.stream.startsWith(streamPrefix('rollout'))).map((e) => e.stream))) {
    let state: RolloutState = rolloutLifecycle.initial;
    const rings = new Map<string, RingCount>();
    const ring = (name: string) => rings.get(name) ?? (rings.set(name, { instructed: 0, settled: 0, failed: 0 }), rings.get(name)!);
    let haltedAt: number | undefined;
    for (const e of log.filter((x) => x.stream === stream)) {
      const next = rolloutLifecycle.next(state, { type: e.type, data: e.data } as RolloutEventBody);
      if (next === undefined) {
        v.push({ check: 'failuresWithinBudget', detail: `${stream}@${e.version} ${e.type}: refused by the rollout machine` });
        break;
      }
      if (next.value === 'halted' && state.value !== 'halted') {
        haltedAt = e.position;
        const current = state.context.policies[state.context.current]?.name;
        if (current !== undefined) ring(current).inFlightAtHalt = ring(current).instructed - ring(current).settled;
      }
      const data = e.data as { ring?: string; instructed?: boolean };
      if (e.type === 'DeviceInstructed') ring(data.ring!).instructed++;
      if (OUTCOMES.has(e.type) && (e.type !== 'DeviceSetAside' || data.instructed === true)) ring(data.ring!).settled++;
      if (e.type === 'DeviceFailed') ring(data.ring!).failed++;
      state = next;
      state.context.policies.forEach((policy, i) => {
        const progress = state.context.rings[i];
        const count = rings.get(policy.name);
        if (progress === undefined || progress.startedAt === null || count === undefined) return;
        const bound = progress.budget + (count.inFlightAtHalt ?? 0);
        if (count.failed > bound) v.push({ check: 'failuresWithinBudget', detail: `${stream} ring ${policy.name}: ${count.failed} failures after position ${e.position}, budget ${progress.budget} + ${count.inFlightAtHalt ?? 0} in flight at the halt` });
      });
    }
    if (haltedAt === undefined) continue;
    const release = state.context.release;
    for (const e of log) {
      if (e.position <= haltedAt) continue;
      if (e.stream === stream && e.type === 'DeviceInstructed') v.push({ check: 'haltedInstructsNothing', detail: `${stream} halted at position ${haltedAt}; DeviceInstructed ${deviceOf(e)} at ${e.position}` });
      if (DEVICE_INSTRUCTIONS.has(e.type) && patchOf(e) === release) v.push({ check: 'haltedInstructsNothing', detail: `${stream} halted at position ${haltedAt}; ${e.stream} ${e.type} ${release} at ${e.position}` });
    }
  }
  return v;
}

/** Once the agents have answered: every device resting, every rollout completed or halted. */
export function checkSettled(devices: ReadonlyArray<{ readonly id: string; readonly state: { readonly value: string } }>, rollouts: ReadonlyArray<{ readonly id: string; readonly state: { readonly value: string } }>): Violation[] {
  const v: Violation[] = [];
  for (const d of devices) if (!(RESTING_STATES as readonly string[]).includes(d.state.value)) v.push({ check: 'resting', detail: `device ${d.id} ends ${d.state.value}` });
  for (const r of rollouts) if (r.state.value !== 'completed' && r.state.value !== 'halted') v.push({ check: 'settled', detail: `rollout ${r.id} ends ${r.state.value}` });
  return v;
}
