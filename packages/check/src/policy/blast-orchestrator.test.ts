/**
 * Ties the policy model to the orchestrator it restates: the real orchestrator, on the real rollout and device
 * machines and an in-memory store, ticking every hour, with agents scripted to report exactly as a worst run of the
 * model has them (and to say nothing else), writes the same rollout stream, event for event, time for time, and
 * leaves the same number of devices running the release unhealthy.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type FleetPolicy } from '@hotpatch/fleet';
import { blastRadius } from './blast.js';
import { rolloutOf, runOrchestrator } from '../testing/witness-run.js';

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

/**
 * A ring whose last device reports at a later tick than its gate can pass at: its silence is due two ticks after its
 * apply (a 1-minute apply timeout, half an hour's silence), and the model's reports come at the tick they precede, so
 * the health report was written at 19:00 and the gate at 18:00, which no orchestrator writes.
 */
const lateLastReport: FleetPolicy = {
  rings: ['r0', 'r1'].map((name, i) => ({ name, deferralDays: 0, budget: { count: 0 }, gate: { minVerifiedShare: 0, maxFailureRate: 0, minSoakHours: 0 }, deadlineDays: i === 0 ? 0.2 : 0 })),
  applyTimeoutMinutes: 1,
  silenceHours: 0.5,
};

describe('the policy model against the real orchestrator', () => {
  const cases: Array<[string, FleetPolicy, number[], boolean]> = [
    ['the policy simulate uses', DEFAULT_POLICY, [20, 180], false],
    ['a paced policy, applies free to fail', paced, [4, 6], true],
    ['a soak that ends before the silence (every report in by its end, in one step)', soaking, [3, 4], false],
    ['a ring whose last report comes after the tick its gate can pass at', lateLastReport, [1, 1], false],
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
