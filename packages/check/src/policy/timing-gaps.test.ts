/**
 * Runs of the real orchestrator that the search once left out, found by a hostile review (2026-12-07), each with its
 * agents scripted by hand (`runSchedules`): an apply reported at a tick the search skipped (its agent's silence, and
 * the ring's time before a halt, count from it: every timing visits those ticks; the default says its longest is then
 * a lower bound), applies timing out together past the budget, and an apply reported
 * early in its interval with a silence off the tick (named NOT EXACT even with every timing).
 */
import { describe, expect, it } from 'vitest';
import type { FleetPolicy } from '@hotpatch/fleet';
import { blastRadius } from './blast.js';
import type { DeviceSchedule } from './blast-timeline.js';
import { deadlineRisks, everyTimingRisks, longestMayBeShort } from './deadline-risk.js';
import { policyInvariants } from './policy-invariants.js';
import { byInstant, rolloutOf, runOrchestrator, runSchedules } from '../testing/witness-run.js';
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
    expect(everyTimingRisks(policy, [2, 3], 60)).toEqual([]);
    const replayed = await runOrchestrator(every.model, every.total);
    expect(byInstant(replayed.rollout)).toEqual(byInstant(rolloutOf(every.model, every.total)));
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

  it('an apply reported early in its interval, the silence off the tick: set aside a tick sooner than every timing has it, so the ring is named NOT EXACT', async () => {
    // Timeout 1 h, silence 1.5 h, deadline 1.5 h (tick 2): applied at 0.1 h, silent at 1.6 h, set aside at 2 h.
    const policy = twoRings(1.5, 60, 1.5);
    const every = blastRadius({ policy, ringSizes: [2, 3], everyTiming: true });
    const real = await runSchedules(every.model, oneSilent(every.model.time(0), 0.1, 3.1), every.model.time(10));
    expect(real.unhealthy).toBe(4);
    expect(every.total.value).toBe(3);
    expect(everyTimingRisks(policy, [2, 3], 60).map((r) => r.ring)).toEqual(['r0']);
  });

  // Not fixed (2026-12-07): an apply stamped with the very instant of the tick that instructed it (an agent answering
  // in the same millisecond, or a simulated clock) counts its silence from that tick, a tick sooner than every timing
  // has it even with a silence of whole ticks; everyTimingRisks names nothing here. The fix: an applied state whose
  // silence (and the ring's first apply) counts from the tick before (`q<τ>` beside `p<τ>`), the witness's apply
  // stamped there, after that tick (runSchedules delivers a report stamped at a tick before it).
  it.skip('an apply at the instant of its instruction, after that tick: set aside a tick sooner, even with a silence of whole ticks', async () => {
    const policy = twoRings(1, 60, 1);
    const every = blastRadius({ policy, ringSizes: [2, 3], everyTiming: true });
    const real = await runAgents(every.model, [
      { apply: 0, applyFails: false, health: 0, healthy: true },
      { apply: 0, applyFails: false, health: null, healthy: true },
      ...[0, 0, 0].map(() => ({ apply: 60, applyFails: false, health: 0, healthy: false })),
    ]);
    expect(real.unhealthy).toBe(4);
    expect(everyTimingRisks(policy, [2, 3], 60)).toEqual([]);
    expect(every.total.value).toBe(4); // 3 today
  });
});
