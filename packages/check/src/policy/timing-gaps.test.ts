/**
 * Runs of the real orchestrator that the search once left out, found by a hostile review (2026-12-07), each with its
 * agents scripted by hand (`runSchedules`): an apply reported at a tick the search skipped (its agent's silence, and
 * the ring's time before a halt, count from it: every timing visits those ticks; the default says its longest is then
 * a lower bound), applies timing out together past the budget, and an apply stamped before the tick the search has
 * it at (early in its interval, or at the instant of its instruction: every timing stamps it with the tick before).
 */
import { describe, expect, it } from 'vitest';
import type { FleetPolicy } from '@hotpatch/fleet';
import { blastRadius } from './blast.js';
import type { DeviceSchedule } from './blast-timeline.js';
import { deadlineRisks, longestMayBeShort } from './deadline-risk.js';
import { policyInvariants } from './policy-invariants.js';
import { rolloutOf, runOrchestrator, runSchedules } from '../testing/witness-run.js';
import { runAgents } from '../testing/agent-run.js';

const H = 3_600_000;
const gate = { minVerifiedShare: 0, maxFailureRate: 0, minSoakHours: 0 };
/** r0's deadline before its silent device can be set aside unless its apply came before the tick the search visits. */
const twoRings = (deadlineHours: number, applyTimeoutMinutes: number, silenceHours: number): FleetPolicy => ({
  rings: [
    { name: 'r0', deferralDays: 0, budget: { count: 0 }, gate, deadlineDays: deadlineHours / 24 },
    { name: 'r1', deferralDays: 0, budget: { count: 3 }, gate: { ...gate, maxFailureRate: 1 }, deadlineDays: 1 },
  ],
  applyTimeoutMinutes,
  silenceHours,
});
/** r0's first device verified, its second silent after applying at `appliedAt` h, r1's three failing their health. */
const oneSilent = (t0: number, appliedAt: number, r1At: number): DeviceSchedule[] => [
  { device: 'r0-0001', ring: 'r0', appliedAt: t0 + appliedAt * H, health: { at: t0 + appliedAt * H, healthy: true } },
  { device: 'r0-0002', ring: 'r0', appliedAt: t0 + appliedAt * H },
  ...[1, 2, 3].map((k) => ({ device: `r1-000${k}`, ring: 'r1', appliedAt: t0 + r1At * H, health: { at: t0 + r1At * H, healthy: false } })),
];

describe('timings the search once left out', () => {
  it('an apply reported at a tick between its instruction and its timeout: its silence counts from there, r0 passes its gate before its deadline', async () => {
    // Timeout 2 h, silence 3 h (whole ticks), deadline 4 h: applied at 1 h, the silent device is set aside at 4 h.
    const policy = twoRings(4, 120, 3);
    const every = blastRadius({ policy, ringSizes: [2, 3], everyTiming: true });
    const real = await runSchedules(every.model, oneSilent(every.model.time(0), 1, 6), every.model.time(10));
    expect(real.perRing).toEqual([1, 3]);
    expect(every.total.value).toBeGreaterThanOrEqual(4);
    const replayed = await runOrchestrator(every.model, every.total);
    expect(replayed.rollout).toEqual(rolloutOf(every.model, every.total));
    expect(replayed.unhealthy).toBe(every.total.value);
  });

  it('the longest before a halt counts from an apply at such a tick: every timing has it, the default a lower bound it says is one', async () => {
    const policy: FleetPolicy = { rings: [{ name: 'r0', deferralDays: 0, budget: { count: 0 }, gate, deadlineDays: 3 }], applyTimeoutMinutes: 120, silenceHours: 48 };
    expect(deadlineRisks(policy, [2], 60)).toEqual([]);
    const model = blastRadius({ policy, ringSizes: [2] }).model;
    const t0 = model.time(0);
    // Applied at 1 h and at 2 h; the second fails its health at 50 h, its last moment before its silence.
    const real = await runSchedules(model, [
      { device: 'r0-0001', ring: 'r0', appliedAt: t0 + H },
      { device: 'r0-0002', ring: 'r0', appliedAt: t0 + 2 * H, health: { at: t0 + 50 * H, healthy: false } },
    ], t0 + 60 * H);
    expect(real.rollout.find((e) => e.type === 'DeviceFailed')?.time).toBe(new Date(t0 + 50 * H).toISOString());
    expect(blastRadius({ policy, ringSizes: [2], everyTiming: true }).longestApplied!.value).toBe(49 * H);
    expect(blastRadius({ policy, ringSizes: [2] }).longestApplied!.value).toBe(48 * H);
    expect([longestMayBeShort(policy, 60), longestMayBeShort(policy, 120)]).toEqual([true, false]);
  });

  it('applies timing out at one tick fail together past the budget: an invariant of yours on failed devices sees them by default', async () => {
    const policy: FleetPolicy = { rings: [{ name: 'r0', deferralDays: 0, budget: { count: 0 }, gate, deadlineDays: 2 }], applyTimeoutMinutes: 1, silenceHours: 0.5 };
    expect(deadlineRisks(policy, [2], 60)).toEqual([]);
    const custom = policyInvariants([{ kind: 'atMost', state: 'failed', count: 1, name: 'i0' }], policy);
    const r = blastRadius({ policy, ringSizes: [2], custom });
    const violated = r.invariants.find((i) => i.name === 'i0')!.violated;
    expect(violated).not.toBeNull();
    const real = await runOrchestrator(r.model, violated!);
    expect(real.rollout.filter((e) => e.type === 'DeviceFailed')).toHaveLength(2);
  });

  // An agent's silence counts from its apply report's own time: early in its interval (the silence off the tick), or at
  // the very instant of the tick that instructed it (any silence), it is set aside a tick sooner. Every timing, on a
  // ring whose deadline can come first, lets an apply be stamped with the tick before (`q<τ>`).
  for (const [name, policy, appliedAt] of [
    ['early in its interval, the silence off the tick', twoRings(1.5, 60, 1.5), 0.1],
    ['at the instant of its instruction, after that tick, the silence whole ticks', twoRings(1, 60, 1), 0],
  ] as const) {
    it(`an apply stamped ${name}: set aside a tick sooner, and every timing has it`, async () => {
      const every = blastRadius({ policy, ringSizes: [2, 3], everyTiming: true });
      const t0 = every.model.time(0);
      const real = await runAgents(every.model, [
        { apply: appliedAt * 60, applyFails: false, health: 0, healthy: true },
        { apply: appliedAt * 60, applyFails: false, health: null, healthy: true },
        ...[0, 0, 0].map(() => ({ apply: 60, applyFails: false, health: 0, healthy: false })),
      ]);
      expect(real.perRing).toEqual([1, 3]);
      expect(every.total.value).toBeGreaterThanOrEqual(4);
      const replayed = await runOrchestrator(every.model, every.total);
      expect(replayed.rollout).toEqual(rolloutOf(every.model, every.total));
      expect(replayed.unhealthy).toBe(every.total.value);
      expect(t0).toBe(Date.parse(every.model.releasedAt));
    });
  }
});
