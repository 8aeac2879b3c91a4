/**
 * The harness can fail: an orchestrator deliberately broken — its decisions read a halted rollout as still rolling
 * (a tick that ignores the halt) — is caught on the same seeded schedules, and the failing schedule shrinks to a
 * short one, printed with what replays it. (The variant is made by replacing fleet's FleetDraft in this file only.)
 */
import { afterAll, expect, it, vi } from 'vitest';
import type { RolloutView } from '../../../fleet/src/orchestrator/fleet-draft.js';
import { describeFound, explore, removeDatabases } from './testing/explore.js';

afterAll(removeDatabases);

// The broken variant: every view of a rollout a decision takes reads `rolling` where the log says `halted`.
vi.mock('../../../fleet/src/orchestrator/fleet-draft.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../fleet/src/orchestrator/fleet-draft.js')>();
  const ignoringTheHalt = (view: RolloutView | undefined) =>
    view &&
    new Proxy(view, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        return key === 'state' && (value as RolloutView['state']).value === 'halted' ? { ...(value as RolloutView['state']), value: 'rolling' } : value;
      },
    });
  class IgnoresTheHalt extends original.FleetDraft {
    override rollout(id: string): RolloutView | undefined {
      return ignoringTheHalt(super.rollout(id));
    }
  }
  return { ...original, FleetDraft: IgnoresTheHalt };
});

it('catches an orchestrator that ignores the halt, and shrinks the schedule to a short one', async () => {
  const { runs, ms, found } = await explore({ runs: 500, seed: 24, shrinkMs: 30_000 });
  expect(found, `no counterexample in ${runs} runs`).toBeDefined();
  console.info(`the broken variant caught after ${runs} runs in ${(ms / 1000).toFixed(1)} s\n${describeFound(found!)}`);
  // Over SQLite the store's own rollout machine refuses the instruction and the unit of work rolls back (its stage and
  // apply with it): the tick fails, which the harness reports, and the halt it took part in is lost with it.
  expect(found!.result.violations.some((v) => v.check === 'callFailed' && v.detail.includes("DeviceInstructed refused in state 'halted'"))).toBe(true);
  expect(found!.result.choicesUsed).toBeLessThan(found!.original);
}, 600_000);
