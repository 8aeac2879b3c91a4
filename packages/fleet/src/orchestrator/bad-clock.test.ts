/** A clock that gives an invalid Date (a simulated clock advanced by NaN, say): a typed error naming it, nothing written. */
import { expect, it } from 'vitest';
import { InvalidClockError } from '@hotpatch/core';
import { createInMemoryEventStore } from '@hotpatch/store';
import { createOrchestrator } from './shell.js';
import { HOTPATCH, POLICY } from './testing/given.js';

it('a tick, a report or a plan on a clock that gives an invalid Date: InvalidClockError, nothing written', async () => {
  const store = createInMemoryEventStore();
  const o = createOrchestrator({ store, clock: { now: () => new Date(NaN) }, policy: POLICY });
  for (const call of [() => o.planRollout(HOTPATCH), () => o.tick(), () => o.report({ id: '0193f2a0-0000-7000-8000-000000000001', device: 'p1', kind: 'applied', patch: HOTPATCH.id })]) {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidClockError);
    expect(error).toMatchObject({ code: 'INVALID_CLOCK', clock: "the orchestrator's clock", reading: 'an invalid Date' });
  }
  expect(await store.readAll()).toEqual([]);
});
