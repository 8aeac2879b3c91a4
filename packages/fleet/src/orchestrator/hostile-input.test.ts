/** What the orchestrator does with input it must not take as it comes: ids reused for other content, malformed reports. */
import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { CommandIdReusedError, createEngine } from '@hotpatch/engine';
import { createInMemoryEventStore } from '@hotpatch/store';
import { simulatedClock } from '../clock.js';
import { ReleaseConflictError } from './api.js';
import { createOrchestrator } from './shell.js';
import { HOTPATCH, POLICY, RELEASED } from './testing/given.js';

/** Three pilot devices and one broad, enrolled and eligible; an orchestrator over them. */
async function fleet() {
  const store = createInMemoryEventStore();
  const clock = simulatedClock(RELEASED);
  const engine = createEngine({ store, clock: () => clock.now() });
  for (const [device, ring] of [['p1', 'pilot'], ['p2', 'pilot'], ['p3', 'pilot'], ['b1', 'broad']] as const) {
    await engine.execute({ type: 'EnrolDevice', device, profile: eligibleProfile, ring, baseline: HOTPATCH.baseline });
    await engine.execute({ type: 'AssessEligibility', device, latestBaseline: HOTPATCH.baseline });
  }
  return { store, clock, o: createOrchestrator({ store, clock, policy: POLICY }) };
}

const id = (n: number) => `0193f2a0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

describe('ids reused for other content', () => {
  it('planRollout with a planned rollout’s id and another release: refused, nothing written, nothing kept', async () => {
    const { store, o } = await fleet();
    await o.planRollout(HOTPATCH);
    const before = await store.readAll();
    const error = await o.planRollout({ ...HOTPATCH, baseline: 'B-2026-02' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseConflictError);
    expect(error).toMatchObject({ code: 'RELEASE_CONFLICT', rollout: HOTPATCH.id, field: 'baseline', planned: HOTPATCH.baseline, given: 'B-2026-02' });
    expect(await store.readAll()).toEqual(before);
    // The instance still follows the logged plan: the pilot ring is instructed, no device is sent to restart.
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 3 });
    const after = (await store.readAll()).slice(before.length);
    expect(after.filter((e) => e.type === 'RebootRequired')).toEqual([]);
    // The same release again (its defaults spelled out or not) is no conflict, and writes nothing.
    await o.planRollout({ ...HOTPATCH, requires: [], outOfBand: false, cumulativeUpdate: `LCU-${HOTPATCH.id}` });
    expect(await store.readAll()).toHaveLength(before.length + after.length);
  });

  it('a health report resent under its id with the other verdict: a typed conflict, not a duplicate', async () => {
    const { store, o } = await fleet();
    await o.planRollout(HOTPATCH);
    await o.tick();
    const device = [...o.projection.devices.values()].find((d) => d.state.value === 'applying')!.id;
    await o.report({ id: id(1), device, kind: 'applied', patch: HOTPATCH.id });
    expect(await o.report({ id: id(2), device, kind: 'health', patch: HOTPATCH.id, healthy: false, signal: 'crash' })).toMatchObject({ status: 'recorded', events: 2 });
    const before = await store.readAll();
    const error = await o.report({ id: id(2), device, kind: 'health', patch: HOTPATCH.id, healthy: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandIdReusedError);
    expect(error).toMatchObject({ stream: `device/${device}`, id: id(2), differs: 'events' });
    expect(await store.readAll()).toEqual(before);
    expect(await o.report({ id: id(2), device, kind: 'health', patch: HOTPATCH.id, healthy: false, signal: 'crash' })).toEqual({ status: 'duplicate' });
  });
});
