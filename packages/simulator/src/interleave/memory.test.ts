/**
 * The same harness over the in-memory store, whose appends each commit on their own (no transactions: a unit of work
 * cut short leaves the appends before the cut, and two instances' units interleave append by append). It finds real
 * failures of the orchestrator there (docs/model-checking.md, "What the harness found"), so it is skipped until they
 * are fixed; `HOTPATCH_INTERLEAVE_MEMORY=1` runs it, and prints the shrunk schedule of the first failure.
 */
import { afterAll, expect, it } from 'vitest';
import { describeFound, explore, memoryDatabase, removeDatabases, runOne } from './testing/explore.js';

afterAll(removeDatabases);

const env = process.env;
const RUNS = Number(env.HOTPATCH_INTERLEAVE_RUNS ?? 1000);
const SEED = Number(env.HOTPATCH_INTERLEAVE_SEED ?? 24);

it.skipIf(env.HOTPATCH_INTERLEAVE_MEMORY === undefined)(
  'keeps every check over the in-memory store (skipped: a halt strands a device a cut-short unit staged; a tick decided before another instance’s halt instructs after it — see docs/model-checking.md)',
  async () => {
    const { runs, ms, found } = await explore({ runs: RUNS, seed: SEED, database: memoryDatabase, ...(env.HOTPATCH_INTERLEAVE_PATH ? { path: env.HOTPATCH_INTERLEAVE_PATH } : {}) });
    console.info(`interleavings over the in-memory store: ${runs} schedules (seed ${SEED}) in ${(ms / 1000).toFixed(1)} s`);
    if (found) expect.fail(describeFound(found));
  },
  1_800_000,
);

it('two instances that decide one step at different times (the ring\'s start): the second takes the first\'s as recorded', async () => {
  // Found by the harness (seed 24, shrunk): i1 ticks at 18:00 and i2 at 18:30, both having read the log before either
  // wrote; i2's RingStarted (at 18:30) has the id of i1's (at 18:00). i2's tick failed with CommandIdReusedError.
  const result = await runOne({ instances: 3, choices: [0, 0, 0, 390543741, 847678592, 1700349008, 1575939426, 0, 1022146083, 554900116, 858598739] }, { database: memoryDatabase });
  expect(result.schedule.filter((line) => line.startsWith('tick on'))).toEqual(['tick on i1 at 2026-02-10T18:00', 'tick on i1 at 2026-02-10T18:00', 'tick on i2 at 2026-02-10T18:30']);
  expect(result.violations).toEqual([]);
});

/** Failing schedules the harness found over the in-memory store and shrank (seed 24), kept until they are fixed. */
const FOUND = {
  // A unit cut short leaves p3 staged and never instructed; the pilot then halts (p2's apply failed, p1's timed out)
  // before a tick heals the gap, and a halted rollout neither heals nor rolls back a device it never instructed:
  // p3 stays staged for good (nothing moves a staged device but its apply, a restart or its retirement).
  strandedByTheHalt: { check: 'resting', instances: 3, choices: [0, 1081883045, 0, 0, 0, 0, 0, 0, 0, 996192089, 0, 0, 55731716, 0, 321775924, 1988869756, 0, 0, 1971869547, 1180827769, 0, 1217716960, 0, 0, 2040302751, 0, 1780156670, 730616377, 573594695, 1891280229, 798368347, 119363202, 0, 0, 0, 0, 25254603, 0, 154248163, 1740278672, 0, 0, 0, 1114862193] },
  // A tick's unit decided on a view from before the halt another instance's unit recorded, and appended p3's apply
  // after it (its DeviceInstructed then refused by the halted rollout): a device started on a halted release.
  instructedAfterTheHalt: { check: 'haltedInstructsNothing', instances: 3, choices: [0, 1081883045, 0, 0, 0, 0, 0, 996192089, 0, 1016814699, 55731716, 0, 321775924, 1988869756, 0, 0, 0, 1943892801, 0, 2040302751, 0, 1780156670, 730616377, 2056471584, 0, 0, 0, 1891280229, 0, 0, 1086110876, 119363202, 0, 0, 1740278672, 992293593, 1995601131, 450361846, 0, 1756545747, 209856058] },
} as const;

for (const [name, { check, ...schedule }] of Object.entries(FOUND)) {
  it.skipIf(env.HOTPATCH_INTERLEAVE_MEMORY === undefined)(`${name}: the schedule the harness shrank no longer breaks ${check} (skipped: a real failure, not fixed yet — docs/model-checking.md)`, async () => {
    const result = await runOne(schedule, { database: memoryDatabase });
    expect(result.violations.filter((v) => v.check === check)).toEqual([]);
  });
}
