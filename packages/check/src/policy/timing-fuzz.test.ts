/**
 * Wider hostile policies than hostile-policies.ts draws (other ticks, timeouts of several ticks, silences and soaks
 * off the tick, up to four rings), and agents scripted against the real orchestrator (at random, and every plan of a
 * small set): no real run leaves a ring, or all of them, more devices unhealthy than every timing says (nor than the
 * default where it names no ring); where the default names none, it answers as every timing; every timing's
 * reductions keep its answers. HOTPATCH_FUZZ_RUNS and HOTPATCH_FUZZ_SEED scale and vary it.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FleetPolicy } from '@hotpatch/fleet';
import { blastRadius, type BlastResult } from './blast.js';
import { deadlineRisks, longestMayBeShort } from './deadline-risk.js';
import { policyInvariants } from './policy-invariants.js';
import { answers, customsFor } from '../testing/policies.js';
import { runAgents, type AgentPlan } from '../testing/agent-run.js';

const RUNS = Number(process.env.HOTPATCH_FUZZ_RUNS ?? 40);
const SEED = Number(process.env.HOTPATCH_FUZZ_SEED ?? 4024);
const TIMEOUT = Math.max(120_000, RUNS * 2_000);
const verdicts = (r: BlastResult) => r.invariants.map((i) => [i.name, i.violated !== null]);

const ring = fc.record({
  deferralDays: fc.constantFrom(0, 0.01, 0.03, 0.1),
  budget: fc.oneof(fc.record({ count: fc.integer({ min: 0, max: 3 }) }), fc.record({ percent: fc.constantFrom(0, 20, 34, 50, 67, 100) })),
  gate: fc.record({ minVerifiedShare: fc.constantFrom(0, 0.5, 1), maxFailureRate: fc.constantFrom(0, 0.5, 1), minSoakHours: fc.constantFrom(0, 0.25, 0.5, 1, 2, 3, 4) }),
  deadlineDays: fc.constantFrom(0, 0.02, 0.05, 0.1, 0.15, 0.25, 1),
});
const policy = fc.record({
  rings: fc.array(ring, { minLength: 1, maxLength: 4 }).map((rs) => rs.map((r, i) => ({ name: `r${i}`, ...r }))),
  applyTimeoutMinutes: fc.constantFrom(1, 20, 45, 60, 100, 120, 180),
  silenceHours: fc.constantFrom(0.25, 0.5, 1, 1.5, 2, 3, 4),
  maxInstructionsPerTick: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
}) as fc.Arbitrary<FleetPolicy>;
const world = policy.chain((p) =>
  fc.tuple(
    fc.constant(p),
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: p.rings.length, maxLength: p.rings.length }).filter((s) => s.reduce((a, b) => a + b, 0) <= 5),
    fc.constantFrom(15, 30, 45, 60, 90, 120),
    customsFor(p),
  ),
);
/** An agent: its apply's delay after the instruction (minutes; null: silent), failed or not, its health's delay after that. */
const agent: fc.Arbitrary<AgentPlan> = fc.record({
  apply: fc.option(fc.integer({ min: 0, max: 300 }), { nil: null, freq: 5 }),
  applyFails: fc.boolean(),
  health: fc.option(fc.integer({ min: 0, max: 300 }), { nil: null, freq: 5 }),
  healthy: fc.boolean(),
});

describe('wider hostile policies', () => {
  it('where the default names no ring, it answers as every timing (fast-check)', () => {
    let compared = 0;
    fc.assert(
      fc.property(world, ([p, ringSizes, tickMinutes, specs]) => {
        fc.pre(deadlineRisks(p, ringSizes, tickMinutes).length === 0);
        compared++;
        const custom = policyInvariants(specs, p);
        const [plain, every] = [false, true].map((everyTiming) => blastRadius({ policy: p, ringSizes, tickMinutes, custom, everyTiming, maxStates: 400_000 }));
        fc.pre(plain!.stats.complete && every!.stats.complete);
        // The default's longest before a halt is a lower bound where an apply timeout spans ticks (it says so).
        const short = longestMayBeShort(p, tickMinutes);
        const of = (r: BlastResult) => [{ ...answers(r), longestApplied: short ? null : answers(r).longestApplied }, verdicts(r)];
        expect(of(plain!), JSON.stringify({ p, ringSizes, tickMinutes, specs })).toEqual(of(every!));
        if (short) expect(plain!.longestApplied?.value ?? 0).toBeLessThanOrEqual(every!.longestApplied?.value ?? 0);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(compared).toBeGreaterThan(RUNS / 4);
  }, TIMEOUT);

  it('every timing: its reductions answer as its full search and the plain per-device exploration, custom invariants included (fast-check)', () => {
    let compared = 0;
    fc.assert(
      fc.property(world, ([p, ringSizes, tickMinutes, specs]) => {
        fc.pre(ringSizes.reduce((a, b) => a + b, 0) <= 4);
        const custom = policyInvariants(specs, p);
        const [reduced, full, plain] = [{}, { reduce: false }, { plain: true }].map((o) => blastRadius({ policy: p, ringSizes, tickMinutes, custom, everyTiming: true, maxStates: 300_000, ...o }));
        fc.pre(reduced!.stats.complete && full!.stats.complete && plain!.stats.complete);
        compared++;
        const context = JSON.stringify({ p, ringSizes, tickMinutes, specs });
        expect([answers(reduced!), verdicts(reduced!)], context).toEqual([answers(full!), verdicts(full!)]);
        expect([answers(reduced!), verdicts(reduced!)], context).toEqual([answers(plain!), verdicts(plain!)]);
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
    expect(compared).toBeGreaterThan(RUNS / 4);
  }, TIMEOUT);

  it('no real run of agents scripted at random goes past the figures of every timing, nor of the default where it names no ring (fast-check)', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(world, fc.array(agent, { minLength: 20, maxLength: 20 }), fc.boolean(), async ([p, ringSizes, tickMinutes], agents, onTicks) => {
        const searches = [false, true]
          .filter((everyTiming) => everyTiming || deadlineRisks(p, ringSizes, tickMinutes).length === 0)
          .map((everyTiming) => blastRadius({ policy: p, ringSizes, tickMinutes, everyTiming, maxStates: 400_000 }))
          .filter((r) => r.stats.complete);
        fc.pre(searches.length > 0);
        // On ticks: every delay a whole number of ticks (the search's granularity: an apply at its instruction's own
        // instant comes after that tick, a tick sooner than the search has it), else any minute.
        const ticks = (m: number | null, least: number) => (m === null ? null : Math.max(least, Math.round(m / tickMinutes)) * tickMinutes);
        const plans = agents.map((a) => (onTicks ? { ...a, apply: ticks(a.apply, 1), health: ticks(a.health, 0) } : a));
        const real = await runAgents(searches[0]!.model, plans);
        const context = JSON.stringify({ p, ringSizes, tickMinutes, plans: plans.slice(0, ringSizes.reduce((a, b) => a + b, 0)) });
        for (const r of searches) {
          compared++;
          real.perRing.forEach((n, i) => expect(n, `${r.model.everyTiming} ${context}`).toBeLessThanOrEqual(r.rings[i]!.value));
          expect(real.unhealthy, `${r.model.everyTiming} ${context}`).toBeLessThanOrEqual(r.total.value);
          // Counted from the tick of the first apply: a real one reported sooner runs up to a tick longer.
          if (real.longest !== null && (r.model.everyTiming || !longestMayBeShort(p, tickMinutes))) expect(real.longest, `${r.model.everyTiming} ${context}`).toBeLessThanOrEqual((r.longestApplied?.value ?? 0) + (onTicks ? 0 : r.model.tickMs));
        }
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
    expect(compared).toBeGreaterThan(RUNS / 2);
  }, TIMEOUT);

  it('no real run of agents choosing among every plan of a small set goes past the figures, on tiny fleets (exhaustive over the plans)', async () => {
    const tick = (t: number) => (m: number | null) => (m === null ? null : m * t);
    await fc.assert(
      fc.asyncProperty(policy.filter((p) => p.rings.length <= 2), fc.constantFrom(15, 30, 60, 90), async (p, tickMinutes) => {
        const ringSizes = p.rings.length === 1 ? [2] : [2, 1];
        const searches = [false, true]
          .filter((everyTiming) => everyTiming || deadlineRisks(p, ringSizes, tickMinutes).length === 0)
          .map((everyTiming) => blastRadius({ policy: p, ringSizes, tickMinutes, everyTiming, maxStates: 400_000 }))
          .filter((r) => r.stats.complete);
        fc.pre(searches.length > 0);
        const t = tick(tickMinutes);
        // Apply at half a tick, one, two (or fail at one, or never); health at once, a tick, three (or never).
        const one: AgentPlan[] = [{ apply: null, applyFails: false, health: null, healthy: true }, { apply: t(1), applyFails: true, health: null, healthy: true }];
        for (const apply of [0.5, 1, 2]) for (const health of [null, 0, 1, 3]) for (const healthy of health === null ? [true] : [true, false]) one.push({ apply: t(apply), applyFails: false, health: t(health), healthy });
        const last: AgentPlan[] = ringSizes.length === 2 ? [{ apply: t(1), applyFails: false, health: 0, healthy: false }, one[0]!] : [one[0]!];
        for (const a of one) for (const b of one) for (const c of last) {
          const plans = [a, b, c];
          const real = await runAgents(searches[0]!.model, plans);
          const context = JSON.stringify({ p, ringSizes, tickMinutes, plans });
          for (const r of searches) {
            real.perRing.forEach((n, i) => expect(n, `${r.model.everyTiming} ${context}`).toBeLessThanOrEqual(r.rings[i]!.value));
            expect(real.unhealthy, `${r.model.everyTiming} ${context}`).toBeLessThanOrEqual(r.total.value);
            if (real.longest !== null && (r.model.everyTiming || !longestMayBeShort(p, tickMinutes))) expect(real.longest, `${r.model.everyTiming} ${context}`).toBeLessThanOrEqual((r.longestApplied?.value ?? 0) + r.model.tickMs);
          }
        }
      }),
      { seed: SEED + 3, numRuns: Math.ceil(RUNS / 20) },
    );
  }, TIMEOUT * 10);
});
