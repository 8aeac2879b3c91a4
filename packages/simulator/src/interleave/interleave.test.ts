/**
 * The orchestrator's interleavings (issue 24): two or three instances over one SQLite store, a seeded schedule choosing
 * at every store call which instance goes on, which report arrives where (late, reordered, again), when an instance
 * crashes (before or after a write, inside its unit's transaction, after its commit) and starts again from the store.
 * Every run's log is checked (checks.ts). `HOTPATCH_INTERLEAVE_RUNS` (default 1,000; interleave-more.test.ts runs as
 * many more, from seed 25) and `HOTPATCH_INTERLEAVE_SEED`
 * choose the runs; `HOTPATCH_INTERLEAVE_PATH` replays a printed failure; `HOTPATCH_INTERLEAVE_REPLAY` runs one schedule
 * (as printed) and prints its steps.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { describeFound, keepsEveryCheck, memoryDatabase, removeDatabases, runOne, type Schedule } from './testing/explore.js';

afterAll(removeDatabases);

const env = process.env;
const RUNS = Number(env.HOTPATCH_INTERLEAVE_RUNS ?? 1000);
const SEED = Number(env.HOTPATCH_INTERLEAVE_SEED ?? 24);

describe('the orchestrator under a deterministic simulation', () => {
  it('runs one schedule the same way every time: the same steps, the same log', async () => {
    const schedule: Schedule = { instances: 3, choices: Array.from({ length: 250 }, (_, i) => (i * 2_654_435_761) % 1_000_003) };
    const once = await runOne(schedule);
    const again = await runOne(schedule);
    expect(again.schedule).toEqual(once.schedule);
    expect(again.events).toBe(once.events);
    expect(once.crashes).toBeGreaterThan(0);
    expect(once.events).toBeGreaterThan(30);
  });

  it.skipIf(env.HOTPATCH_INTERLEAVE_REPLAY === undefined)('replays the schedule given (HOTPATCH_INTERLEAVE_REPLAY)', async () => {
    const schedule = JSON.parse(env.HOTPATCH_INTERLEAVE_REPLAY!) as Schedule;
    const result = await runOne(schedule, env.HOTPATCH_INTERLEAVE_STORE === 'memory' ? { database: memoryDatabase } : {});
    console.info(describeFound({ seed: SEED, path: '', schedule, result, original: schedule.choices.length, shrinkRuns: 0 }));
  });

  it(`keeps every check on ${RUNS} seeded schedules (seed ${SEED})`, async () => {
    const found = await keepsEveryCheck(SEED, RUNS);
    if (found !== undefined) expect.fail(found);
  }, 1_800_000);
});
