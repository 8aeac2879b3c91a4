/** The real orchestrator run on a blast-radius witness's schedule (test-only): what ties the policy model to the code it restates. */
import { expect } from 'vitest';
import type { RolloutEventBody } from '@hotpatch/core';
import { createInMemoryEventStore, nameBasedIds, timedNameBasedIds } from '@hotpatch/store';
import { createOrchestrator, simulatedClock, type AgentReport } from '@hotpatch/fleet';
import type { Witness } from '../policy/blast.js';
import { MODEL_BASELINE, MODEL_RELEASE, witnessSchedule, witnessTimeline } from '../policy/blast-timeline.js';
import type { PolicyModel } from '../policy/policy-model.js';

const reportId = timedNameBasedIds('0a6f3c2d-71b4-4e8a-9c5d-3e2f1b0a9d87');
const enrolId = nameBasedIds('5e1d2c3b-4a59-4687-9f0e-1d2c3b4a5968');
const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false } as const;

/** The real orchestrator on the witness's schedule: its rollout stream, and the devices running the release unhealthy at the end. */
export async function runOrchestrator(model: PolicyModel, witness: Witness) {
  const { schedules, steps } = witnessSchedule(model, witness);
  const end = steps.at(-1)!.acts.at(-1)?.at ?? model.time(0);
  const store = createInMemoryEventStore();
  const clock = simulatedClock(new Date(model.time(0) - 24 * 3_600_000).toISOString());
  const orchestrator = createOrchestrator({ store, clock, policy: model.policy });
  for (const s of schedules) {
    await orchestrator.engine.execute({ type: 'EnrolDevice', device: s.device, profile, ring: s.ring, baseline: MODEL_BASELINE, id: enrolId(`enrol|${s.device}`) });
    await orchestrator.engine.execute({ type: 'AssessEligibility', device: s.device, latestBaseline: MODEL_BASELINE, id: enrolId(`assess|${s.device}`) });
  }
  // Each device's reports, at the times and in the order the run has them (the timeline's); nothing else (a silent
  // agent says nothing).
  const reports: Array<{ at: number; report: AgentReport }> = [];
  const patch = MODEL_RELEASE;
  for (const e of witnessTimeline(model, witness)) {
    if (!e.stream.startsWith('device/')) continue;
    const device = e.stream.slice('device/'.length);
    const at = Date.parse(e.time);
    const report: AgentReport | undefined =
      e.type === 'PatchApplied'
        ? { kind: 'applied', id: reportId(at, `${device}|applied`), device, patch }
        : e.type === 'PatchApplyFailed' && (e.data as { reason: string }).reason === 'apply failed'
          ? { kind: 'apply-failed', id: reportId(at, `${device}|apply-failed`), device, patch, reason: 'apply failed' }
          : e.type === 'PatchVerified'
            ? { kind: 'health', id: reportId(at, `${device}|health`), device, patch, healthy: true }
            : e.type === 'HealthCheckFailed'
              ? { kind: 'health', id: reportId(at, `${device}|health`), device, patch, healthy: false, signal: 'health check failed' }
              : undefined;
    if (report !== undefined) reports.push({ at, report });
  }
  await orchestrator.sync();
  let next = 0;
  for (let tick = 0; model.time(tick) <= end; tick++) {
    const t = model.time(tick);
    while (next < reports.length && reports[next]!.at <= t) {
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
  return { rollout, unhealthy: ran.size };
}

export const rolloutOf = (model: PolicyModel, witness: Witness) =>
  witnessTimeline(model, witness)
    .filter((e) => e.stream === `rollout/${MODEL_RELEASE}`)
    .map((e) => ({ type: e.type, time: e.time, data: e.type === 'RolloutPlanned' ? expect.objectContaining({ release: MODEL_RELEASE, rings: model.policy.rings }) : (e.data as RolloutEventBody['data']) }));
