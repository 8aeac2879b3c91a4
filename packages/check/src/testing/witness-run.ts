/** The real orchestrator run on a blast-radius witness's schedule (test-only): what ties the policy model to the code it restates. */
import { expect } from 'vitest';
import type { RolloutEventBody } from '@hotpatch/core';
import { createInMemoryEventStore, nameBasedIds, timedNameBasedIds } from '@hotpatch/store';
import { createOrchestrator, simulatedClock, type AgentReport } from '@hotpatch/fleet';
import type { Witness } from '../policy/blast.js';
import { MODEL_BASELINE, MODEL_RELEASE, witnessSchedule, witnessTimeline, type DeviceSchedule } from '../policy/blast-timeline.js';
import type { PolicyModel } from '../policy/policy-model.js';

const reportId = timedNameBasedIds('0a6f3c2d-71b4-4e8a-9c5d-3e2f1b0a9d87');
const enrolId = nameBasedIds('5e1d2c3b-4a59-4687-9f0e-1d2c3b4a5968');
const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false } as const;

/** The real orchestrator on the witness's schedule: its rollout stream, and the devices running the release unhealthy at the end. */
export async function runOrchestrator(model: PolicyModel, witness: Witness) {
  const { schedules, steps } = witnessSchedule(model, witness);
  // The agents' reports in the order the run has them (its timeline's), where several come at one time.
  const kinds: Record<string, AgentReport['kind']> = { PatchApplied: 'applied', PatchApplyFailed: 'apply-failed', PatchVerified: 'health', HealthCheckFailed: 'health' };
  const order = new Map<string, number>();
  for (const e of witnessTimeline(model, witness)) if (e.stream.startsWith('device/') && kinds[e.type] !== undefined) order.set(`${e.stream.slice('device/'.length)}|${kinds[e.type]}`, order.size);
  return runSchedules(model, schedules, steps.at(-1)!.acts.at(-1)?.at ?? model.time(0), order);
}

/**
 * The real orchestrator ticking every `model.tickMs` until `end`, its agents reporting as `schedules` have them (at
 * any time, not only at ticks; a timed-out `applyFailed` is the orchestrator's, not reported): its rollout stream, the
 * devices running the release unhealthy at the end, in all and per ring (by the model's ring order).
 */
export async function runSchedules(model: PolicyModel, schedules: readonly DeviceSchedule[], end: number, order?: ReadonlyMap<string, number>) {
  const store = createInMemoryEventStore();
  const clock = simulatedClock(new Date(model.time(0) - 24 * 3_600_000).toISOString());
  const orchestrator = createOrchestrator({ store, clock, policy: model.policy });
  for (const s of schedules) {
    await orchestrator.engine.execute({ type: 'EnrolDevice', device: s.device, profile, ring: s.ring, baseline: MODEL_BASELINE, id: enrolId(`enrol|${s.device}`) });
    await orchestrator.engine.execute({ type: 'AssessEligibility', device: s.device, latestBaseline: MODEL_BASELINE, id: enrolId(`assess|${s.device}`) });
  }
  // Each device's reports, at the times the run has them; nothing else (a silent agent says nothing).
  // `afterTick`: stamped with a tick's instant, and handled after that tick (an agent answering its instruction at once).
  // Reports at one time go in `order`'s order (a run's: the witness's timeline), else in the schedules'.
  const reports: Array<{ at: number; afterTick?: boolean; report: AgentReport }> = [];
  for (const s of schedules) {
    const patch = MODEL_RELEASE;
    if (s.appliedAt !== undefined) reports.push({ at: s.appliedAt, afterTick: s.appliedAfterTick, report: { kind: 'applied', id: reportId(s.appliedAt, `${s.device}|applied`), device: s.device, patch } });
    if (s.applyFailed !== undefined && !s.applyFailed.timeout) reports.push({ at: s.applyFailed.at, report: { kind: 'apply-failed', id: reportId(s.applyFailed.at, `${s.device}|apply-failed`), device: s.device, patch, reason: 'apply failed' } });
    if (s.health !== undefined) {
      const h = s.health;
      reports.push({ at: h.at, report: { kind: 'health', id: reportId(h.at, `${s.device}|health`), device: s.device, patch, healthy: h.healthy, ...(h.healthy ? {} : { signal: 'health check failed' }) } });
    }
  }
  const rank = (r: AgentReport) => order?.get(`${r.device}|${r.kind}`) ?? 0;
  reports.sort((a, b) => a.at - b.at || Number(a.afterTick ?? false) - Number(b.afterTick ?? false) || rank(a.report) - rank(b.report));
  await orchestrator.sync();
  let next = 0;
  for (let tick = 0; model.time(tick) <= end; tick++) {
    const t = model.time(tick);
    while (next < reports.length && (reports[next]!.at < t || (reports[next]!.at === t && !reports[next]!.afterTick))) {
      clock.jumpTo(new Date(reports[next]!.at).toISOString());
      const result = await orchestrator.report(reports[next++]!.report);
      expect(result.status).toBe('recorded');
    }
    clock.jumpTo(new Date(t).toISOString());
    if (tick === 0) {
      await orchestrator.planRollout({ id: MODEL_RELEASE, kind: 'hotpatch', releasedAt: model.releasedAt, baseline: MODEL_BASELINE, requires: [], liveRevert: true, cumulativeUpdate: `LCU-${MODEL_RELEASE}` });
    }
    await orchestrator.tick();
  }
  const rollout = store.all.filter((e) => e.stream === `rollout/${MODEL_RELEASE}`).map((e) => ({ type: e.type, time: e.time, data: e.data }));
  // Instructed, and neither verified nor failed before the release ran: what the model counts.
  const ran = new Set(store.all.filter((e) => e.type === 'DeviceInstructed').map((e) => (e.data as { device: string }).device));
  for (const e of store.all) if (e.type === 'PatchVerified' || e.type === 'PatchApplyFailed') ran.delete(e.stream.slice('device/'.length));
  const perRing = model.policy.rings.map((r) => schedules.filter((s) => s.ring === r.name && ran.has(s.device)).length);
  return { rollout, unhealthy: ran.size, perRing };
}

export const rolloutOf = (model: PolicyModel, witness: Witness) =>
  witnessTimeline(model, witness)
    .filter((e) => e.stream === `rollout/${MODEL_RELEASE}`)
    .map((e) => ({ type: e.type, time: e.time, data: e.type === 'RolloutPlanned' ? expect.objectContaining({ release: MODEL_RELEASE, rings: model.policy.rings }) : (e.data as RolloutEventBody['data']) }));
