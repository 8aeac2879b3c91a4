/** The real orchestrator with agents that react to their instructions as planned (test-only): the fuzz of timing-fuzz.test.ts. */
import { rolloutLifecycle, type RolloutEventBody } from '@hotpatch/core';
import { createInMemoryEventStore, nameBasedIds, timedNameBasedIds } from '@hotpatch/store';
import { createOrchestrator, simulatedClock, type AgentReport } from '@hotpatch/fleet';
import { deviceName, MODEL_BASELINE, MODEL_RELEASE } from '../policy/blast-timeline.js';
import type { PolicyModel } from '../policy/policy-model.js';

const reportId = timedNameBasedIds('3c5e7a91-2b4d-4f68-8a0c-1e3d5f7b9c20');
const enrolId = nameBasedIds('7f2a4c6e-8b1d-4e3f-9a5c-2d4f6b8e0a13');
const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false } as const;

/** An agent's plan, in minutes after its instruction: its apply report (null: silent), failed or not, then its health's. */
export interface AgentPlan {
  readonly apply: number | null;
  readonly applyFails: boolean;
  readonly health: number | null;
  readonly healthy: boolean;
}

/** Runs the rollout to its end (or 30 days), device k of the fleet (rings in order) following `plans[k]`. */
export async function runAgents(model: PolicyModel, plans: readonly AgentPlan[]) {
  const store = createInMemoryEventStore();
  const clock = simulatedClock(new Date(model.time(0) - 24 * 3_600_000).toISOString());
  const orchestrator = createOrchestrator({ store, clock, policy: model.policy });
  const devices = model.policy.rings.flatMap((r, i) => Array.from({ length: model.sizes[i]! }, (_, k) => ({ device: deviceName(r.name, k), ring: r.name })));
  for (const { device, ring } of devices) {
    await orchestrator.engine.execute({ type: 'EnrolDevice', device, profile, ring, baseline: MODEL_BASELINE, id: enrolId(`enrol|${device}`) });
    await orchestrator.engine.execute({ type: 'AssessEligibility', device, latestBaseline: MODEL_BASELINE, id: enrolId(`assess|${device}`) });
  }
  await orchestrator.sync();
  const pending: Array<{ at: number; report: AgentReport }> = [];
  const seen = new Set<string>();
  const rolloutStream = `rollout/${MODEL_RELEASE}`;
  /** Whether the rollout has halted or completed: its stream through the rollout machine. */
  const ended = () => {
    let state = rolloutLifecycle.initial;
    for (const e of store.all) if (e.stream === rolloutStream) state = rolloutLifecycle.step(state, { type: e.type, data: e.data } as RolloutEventBody)?.state ?? state;
    return state.value === 'halted' || state.value === 'completed';
  };
  const patch = MODEL_RELEASE;
  for (let tick = 0; model.time(tick) <= model.time(0) + 30 * 86_400_000; tick++) {
    const t = model.time(tick);
    pending.sort((a, b) => a.at - b.at);
    while (pending.length > 0 && pending[0]!.at <= t) {
      const { at, report } = pending.shift()!;
      clock.jumpTo(new Date(at).toISOString());
      await orchestrator.report(report);
    }
    clock.jumpTo(new Date(t).toISOString());
    if (tick === 0) await orchestrator.planRollout({ id: MODEL_RELEASE, kind: 'hotpatch', releasedAt: model.releasedAt, baseline: MODEL_BASELINE, requires: [], liveRevert: true, cumulativeUpdate: `LCU-${MODEL_RELEASE}` });
    await orchestrator.tick();
    for (const e of store.all) {
      if (e.stream !== rolloutStream || e.type !== 'DeviceInstructed') continue;
      const device = (e.data as { device: string }).device;
      if (seen.has(device)) continue;
      seen.add(device);
      const plan = plans[devices.findIndex((d) => d.device === device)]!;
      const at = Date.parse(e.time);
      if (plan.apply === null) continue;
      const appliedAt = at + plan.apply * 60_000;
      if (plan.applyFails) {
        pending.push({ at: appliedAt, report: { kind: 'apply-failed', id: reportId(appliedAt, `${device}|apply-failed`), device, patch, reason: 'apply failed' } });
        continue;
      }
      pending.push({ at: appliedAt, report: { kind: 'applied', id: reportId(appliedAt, `${device}|applied`), device, patch } });
      if (plan.health === null) continue;
      const h = appliedAt + plan.health * 60_000;
      pending.push({ at: h, report: { kind: 'health', id: reportId(h, `${device}|health`), device, patch, healthy: plan.healthy, ...(plan.healthy ? {} : { signal: 'health check failed' }) } });
    }
    if (ended()) break;
  }
  // The time the release ran in the ring a halt stopped, from that ring's first apply to the halt.
  let state = rolloutLifecycle.initial;
  let longest: number | null = null;
  for (const e of store.all) {
    if (e.stream !== rolloutStream) continue;
    const before = state;
    state = rolloutLifecycle.step(state, { type: e.type, data: e.data } as RolloutEventBody)?.state ?? state;
    if (before.value === 'halted' || state.value !== 'halted') continue;
    const ring = state.context.policies[state.context.current]!.name;
    const applies = store.all.filter((a) => a.type === 'PatchApplied' && a.stream.startsWith(`device/${ring}-`)).map((a) => Date.parse(a.time));
    if (applies.length > 0) longest = Date.parse(e.time) - Math.min(...applies);
  }
  const ran = new Set(store.all.filter((e) => e.type === 'DeviceInstructed').map((e) => (e.data as { device: string }).device));
  for (const e of store.all) if (e.type === 'PatchVerified' || e.type === 'PatchApplyFailed') ran.delete(e.stream.slice('device/'.length));
  const perRing = model.policy.rings.map((r) => devices.filter((d) => d.ring === r.name && ran.has(d.device)).length);
  return { unhealthy: ran.size, perRing, longest };
}
