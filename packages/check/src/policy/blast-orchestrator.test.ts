/**
 * Ties the policy model to the orchestrator it restates: the real orchestrator, on the real rollout and device
 * machines and an in-memory store, ticking every hour, with agents scripted to report exactly as a worst run of the
 * model has them (and to say nothing else), writes the same rollout stream, event for event, time for time, and
 * leaves the same number of devices running the release unhealthy.
 */
import { describe, expect, it } from 'vitest';
import type { RolloutEventBody } from '@hotpatch/core';
import { createInMemoryEventStore, nameBasedIds, timedNameBasedIds } from '@hotpatch/store';
import { createOrchestrator, DEFAULT_POLICY, simulatedClock, type AgentReport, type FleetPolicy } from '@hotpatch/fleet';
import { blastRadius, type Witness } from './blast.js';
import { MODEL_BASELINE, MODEL_RELEASE, witnessSchedule, witnessTimeline } from './blast-timeline.js';
import type { PolicyModel } from './policy-model.js';

const reportId = timedNameBasedIds('0a6f3c2d-71b4-4e8a-9c5d-3e2f1b0a9d87');
const enrolId = nameBasedIds('5e1d2c3b-4a59-4687-9f0e-1d2c3b4a5968');
const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false } as const;

/** The real orchestrator on the witness's schedule: its rollout stream, and the devices running the release unhealthy at the end. */
async function runOrchestrator(model: PolicyModel, witness: Witness) {
  const { schedules, steps } = witnessSchedule(model, witness);
  const end = steps.at(-1)!.acts.at(-1)?.at ?? model.time(0);
  const store = createInMemoryEventStore();
  const clock = simulatedClock(new Date(model.time(0) - 24 * 3_600_000).toISOString());
  const orchestrator = createOrchestrator({ store, clock, policy: model.policy });
  for (const s of schedules) {
    await orchestrator.engine.execute({ type: 'EnrolDevice', device: s.device, profile, ring: s.ring, baseline: MODEL_BASELINE, id: enrolId(`enrol|${s.device}`) });
    await orchestrator.engine.execute({ type: 'AssessEligibility', device: s.device, latestBaseline: MODEL_BASELINE, id: enrolId(`assess|${s.device}`) });
  }
  // Each device's reports, at the times the run has them; nothing else (a silent agent says nothing).
  const reports: Array<{ at: number; report: AgentReport }> = [];
  for (const s of schedules) {
    const patch = MODEL_RELEASE;
    if (s.appliedAt !== undefined) reports.push({ at: s.appliedAt, report: { kind: 'applied', id: reportId(s.appliedAt, `${s.device}|applied`), device: s.device, patch } });
    if (s.applyFailed !== undefined && !s.applyFailed.timeout) reports.push({ at: s.applyFailed.at, report: { kind: 'apply-failed', id: reportId(s.applyFailed.at, `${s.device}|apply-failed`), device: s.device, patch, reason: 'apply failed' } });
    if (s.health !== undefined) {
      const h = s.health;
      reports.push({ at: h.at, report: { kind: 'health', id: reportId(h.at, `${s.device}|health`), device: s.device, patch, healthy: h.healthy, ...(h.healthy ? {} : { signal: 'health check failed' }) } });
    }
  }
  reports.sort((a, b) => a.at - b.at);
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

const rolloutOf = (model: PolicyModel, witness: Witness) =>
  witnessTimeline(model, witness)
    .filter((e) => e.stream === `rollout/${MODEL_RELEASE}`)
    .map((e) => ({ type: e.type, time: e.time, data: e.type === 'RolloutPlanned' ? expect.objectContaining({ release: MODEL_RELEASE, rings: model.policy.rings }) : (e.data as RolloutEventBody['data']) }));

const paced: FleetPolicy = {
  rings: [
    { name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 4 }, deadlineDays: 1 },
    { name: 'broad', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.3, minSoakHours: 2 }, deadlineDays: 2 },
  ],
  applyTimeoutMinutes: 60,
  silenceHours: 3,
  maxInstructionsPerTick: 2,
};

/** Soaks that end long before the agents' silence: worst runs in which every device reports by a soak's end, at once. */
const quickSoak = (name: string) => ({ name, deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 2 }, deadlineDays: 1 });
const soaking: FleetPolicy = { rings: [quickSoak('pilot'), quickSoak('broad')], applyTimeoutMinutes: 60, silenceHours: 48 };

describe('the policy model against the real orchestrator', () => {
  const cases: Array<[string, FleetPolicy, number[], boolean]> = [
    ['the policy simulate uses', DEFAULT_POLICY, [20, 180], false],
    ['a paced policy, applies free to fail', paced, [4, 6], true],
    ['a soak that ends before the silence (every report in by its end, in one step)', soaking, [3, 4], false],
  ];
  for (const [name, policy, ringSizes, applyFailures] of cases) {
    it(`${name}: every worst run the model finds, run by the orchestrator, writes the model's rollout stream and reaches its worst case`, async () => {
      const result = blastRadius({ policy, ringSizes, applyFailures });
      const witnesses = [result.total, ...result.rings, ...(result.longestApplied ? [result.longestApplied] : []), ...(result.completesWithBad ? [result.completesWithBad] : [])];
      for (const witness of witnesses) {
        const real = await runOrchestrator(result.model, witness);
        expect(real.rollout).toEqual(rolloutOf(result.model, witness));
      }
      if (policy === soaking) expect(witnesses.some((w) => w.labels.some((l) => l.kind === 'reports'))).toBe(true);
      expect((await runOrchestrator(result.model, result.total)).unhealthy).toBe(result.total.value);
    });
  }
});
