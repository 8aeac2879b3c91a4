/**
 * deadline-risk.ts names the rings where the default search's timing can miss a run. Checked against what it stands
 * for: on hostile policies (the generator of hostile.test.ts), wherever the default search answers otherwise than the
 * search of every timing (`everyTiming`: health reports in their apply's interval, failed applies), a ring is named;
 * such policies are drawn (so the check fails if the naming is dropped), and so are policies naming no ring.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { blastRadius, type BlastResult } from './blast.js';
import { deadlineRisks, longestMayBeShort } from './deadline-risk.js';
import { policyInvariants } from './policy-invariants.js';
import { TIGHT_DEADLINE_POLICY, world } from '../testing/hostile-policies.js';
import { answers } from '../testing/policies.js';

const RUNS = Number(process.env.HOTPATCH_HOSTILE_RUNS ?? 150);
const verdicts = (r: BlastResult) => r.invariants.map((i) => [i.name, i.violated !== null]);

describe('rings whose deadline can come before they settle', () => {
  it("names the ring of the policy where a verification in its apply's interval beats the deadline (every-timing.test.ts)", () => {
    const policy = TIGHT_DEADLINE_POLICY;
    expect(deadlineRisks(policy, [3, 1], 60).map((r) => r.ring)).toEqual(['r0', 'r1']);
    // Three devices a tick apart, the last instructed at 2 h, its silence at 2.5 h, two ticks' rounding, one more.
    expect(deadlineRisks(policy, [3, 1], 60)[0]).toEqual({ ring: 'r0', deadlineHours: 2.4, settledHours: 331 / 60 });
  });

  it('names a ring wherever the default search answers otherwise than the search of every timing, custom invariants included; both kinds are drawn (fast-check)', () => {
    let differ = 0;
    let unflagged = 0;
    fc.assert(
      fc.property(world(7), ([policy, ringSizes, , specs, tickMinutes]) => {
        const custom = policyInvariants(specs, policy);
        const flagged = deadlineRisks(policy, ringSizes, tickMinutes ?? 60).length > 0;
        const [plain, every] = [false, true].map((everyTiming) => blastRadius({ policy, ringSizes, tickMinutes, custom, everyTiming }));
        // The default's longest before a halt is a lower bound where an apply timeout spans ticks (it says so).
        const short = longestMayBeShort(policy, tickMinutes ?? 60);
        const of = (r: BlastResult) => [{ ...answers(r), longestApplied: short ? null : answers(r).longestApplied }, verdicts(r)];
        const same = JSON.stringify(of(plain!)) === JSON.stringify(of(every!));
        if (!flagged) unflagged++;
        if (!same) differ++;
        if (!flagged) expect(of(plain!), JSON.stringify({ policy, ringSizes, tickMinutes, specs })).toEqual(of(every!));
        if (short) expect(plain!.longestApplied?.value ?? 0).toBeLessThanOrEqual(every!.longestApplied?.value ?? 0);
      }),
      { seed: Number(process.env.HOTPATCH_HOSTILE_SEED ?? 3006), numRuns: RUNS * 4 },
    );
    expect(unflagged).toBeGreaterThan(RUNS / 5);
    expect(differ).toBeGreaterThan(0);
  }, 180_000); // 600 searches of every timing, about 30 s of CPU: more on a loaded machine
});
