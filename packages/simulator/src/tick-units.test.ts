import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createInMemoryEventStore } from '@hotpatch/store';
import { DEFAULT_POLICY } from '@hotpatch/fleet';
import { DEFAULT_FAULTS, simulate } from './index.js';

/** The log of one arm, as what each event says (its position, stream, version, id, time, type, data and meta). */
async function log(seed: number, instructionsPerUnit: number | undefined, faults = DEFAULT_FAULTS, policy = DEFAULT_POLICY) {
  const store = createInMemoryEventStore();
  await simulate({ devices: 120, months: 3, seed, policy, store, arm: 'hotpatch', faults, ...(instructionsPerUnit !== undefined ? { instructionsPerUnit } : {}) });
  return store.all.map((e) => JSON.stringify(e));
}

describe('a tick in several units of work', () => {
  it('writes the log a tick of one unit writes, whatever the number of devices a unit instructs', async () => {
    // Silent agents, apply timeouts and a bad hotpatch's halt, with ring starts cut at every few devices.
    const faults = { ...DEFAULT_FAULTS, silentAgents: 0.1, silentDays: [1, 4] as const };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 40 }), async (seed, perUnit) => {
        const whole = await log(seed, Number.MAX_SAFE_INTEGER, faults);
        expect(whole.length).toBeGreaterThan(1000);
        expect(await log(seed, perUnit, faults)).toEqual(whole);
      }),
      { seed: 19, numRuns: 4 },
    );
  });

  it('takes one device per unit as well, and starts no ring at the tick its previous ring’s gate passed', async () => {
    expect(await log(3, 1)).toEqual(await log(3, undefined));
    // No deferral: a ring opens as soon as the gate before it passes, at the tick after.
    const undeferred = { ...DEFAULT_POLICY, rings: DEFAULT_POLICY.rings.map((r) => ({ ...r, deferralDays: 0 })) };
    expect(await log(5, 2, DEFAULT_FAULTS, undeferred)).toEqual(await log(5, undefined, DEFAULT_FAULTS, undeferred));
  });
});
