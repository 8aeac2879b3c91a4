/**
 * A second thousand schedules (seed 25) beside interleave.test.ts's (seed 24): a file of their own, so that the suite
 * runs the two thousands on its two workers side by side. `HOTPATCH_INTERLEAVE_RUNS` sets how many here too.
 */
import { afterAll, expect, it } from 'vitest';
import { keepsEveryCheck, removeDatabases } from './testing/explore.js';

afterAll(removeDatabases);

const RUNS = Number(process.env.HOTPATCH_INTERLEAVE_RUNS ?? 1000);

it(`keeps every check on ${RUNS} more seeded schedules (seed 25)`, async () => {
  const found = await keepsEveryCheck(25, RUNS);
  if (found !== undefined) expect.fail(found);
}, 1_800_000);
