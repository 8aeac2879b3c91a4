/**
 * `everyTiming`: every timing of reports the orchestrator can see, a health report in its apply's interval and failed
 * applies included (the default search leaves both out). Its reductions keep its answers, its worst runs are runs of
 * the real orchestrator, and on the tight-deadline policy it finds the run the default misses. deadline-risk.test.ts
 * checks the default against it.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { blastRadius, type BlastResult } from './blast.js';
import { policyInvariants } from './policy-invariants.js';
import { TIGHT_DEADLINE_POLICY, world } from '../testing/hostile-policies.js';
import { answers } from '../testing/policies.js';
import { rolloutOf, runOrchestrator } from '../testing/witness-run.js';

const RUNS = Number(process.env.HOTPATCH_HOSTILE_RUNS ?? 150);
const verdicts = (r: BlastResult) => r.invariants.map((i) => [i.name, i.violated !== null]);

describe('every timing of reports', () => {
  it("finds the run the default misses on the tight-deadline policy: r0's last device verifies in its apply's interval, r0 passes its gate, r1 receives the release", async () => {
    const policy = TIGHT_DEADLINE_POLICY;
    expect(blastRadius({ policy, ringSizes: [3, 1] }).rings[1]!.value).toBe(0);
    const r = blastRadius({ policy, ringSizes: [3, 1], everyTiming: true });
    expect(r.rings[1]!.value).toBe(1);
    const real = await runOrchestrator(r.model, r.rings[1]!);
    expect(real.rollout).toEqual(rolloutOf(r.model, r.rings[1]!));
    expect(real.rollout.filter((e) => e.type === 'DeviceInstructed' && (e.data as { ring: string }).ring === 'r1')).toHaveLength(1);
  });

  it('answers as its full search and as the plain per-device exploration do, custom invariants included (fast-check)', () => {
    fc.assert(
      fc.property(world(5), ([policy, ringSizes, , specs, tickMinutes]) => {
        const custom = policyInvariants(specs, policy);
        // The plain per-device exploration of every timing grows fastest: on rings of 4 devices in all at most.
        const small = ringSizes.reduce((a, b) => a + b, 0) <= 4;
        const [reduced, full, plain] = [{}, { reduce: false }, ...(small ? [{ plain: true }] : [])].map((o) => blastRadius({ policy, ringSizes, tickMinutes, custom, everyTiming: true, ...o }));
        expect(reduced!.stats.complete && full!.stats.complete && (plain?.stats.complete ?? true)).toBe(true);
        expect([answers(reduced!), verdicts(reduced!)]).toEqual([answers(full!), verdicts(full!)]);
        if (plain) expect([answers(reduced!), verdicts(reduced!)]).toEqual([answers(plain), verdicts(plain)]);
      }),
      { seed: Number(process.env.HOTPATCH_HOSTILE_SEED ?? 3008), numRuns: RUNS },
    );
  });

  it('has worst runs that the real orchestrator, run on their schedules, writes event for event (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(world(6), async ([policy, ringSizes, , , tickMinutes]) => {
        const r = blastRadius({ policy, ringSizes, tickMinutes, everyTiming: true });
        const witnesses = [r.total, ...r.rings, ...(r.longestApplied ? [r.longestApplied] : [])].filter((w) => w.labels.length > 0);
        for (const witness of witnesses) {
          const real = await runOrchestrator(r.model, witness);
          expect(real.unhealthy).toBeLessThanOrEqual(r.total.value);
          expect(real.rollout).toEqual(rolloutOf(r.model, witness));
        }
      }),
      { seed: Number(process.env.HOTPATCH_HOSTILE_SEED ?? 3009), numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
