import { describe, expect, it } from 'vitest';
import { TransitionRefusedError } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { createEngine } from '@hotpatch/engine';
import { complianceOf, createOrchestrator, fleetStatus, simulatedClock, type ReleaseToRoll } from './index.js';
import { agentsRespond, BROAD, finishRollout, fleet, hotpatch, instructionsIn, pilotInstructed, policy, RELEASED } from './orchestrator/testing/rollout-fixture.js';

describe('orchestrator', () => {
  it('pauses by the service or the tenant; the service cannot lift the tenant’s pause; a paused rollout instructs nothing', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock);
    const o = createOrchestrator({ store, clock, policy });
    await o.planRollout(hotpatch);
    await o.pause('HP-2026-02', 'tenant', 'change freeze');
    await o.pause('HP-2026-02', 'service', 'incident');
    expect(await o.tick()).toMatchObject({ ringsStarted: 0, instructed: 0 });
    await o.resume('HP-2026-02', 'service');
    expect(o.projection.rollouts.get('HP-2026-02')!.state).toMatchObject({ value: 'paused', context: { pausedBy: ['tenant'] } });
    await expect(o.resume('HP-2026-02', 'service')).rejects.toBeInstanceOf(TransitionRefusedError);
    expect(await o.tick()).toMatchObject({ instructed: 0 });
    await o.resume('HP-2026-02', 'tenant');
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 3 });
    // With an id, a retried pause (or resume) records once.
    const pauseId = '0193f2a0-0000-7000-8000-0000000000aa';
    await o.pause('HP-2026-02', 'tenant', 'freeze again', pauseId);
    const version = o.projection.rollouts.get('HP-2026-02')!.version;
    await o.pause('HP-2026-02', 'tenant', 'freeze again', pauseId);
    expect(o.projection.rollouts.get('HP-2026-02')!.version).toBe(version);
    expect((await store.readStream('rollout/HP-2026-02')).filter((e) => e.id === pauseId)).toHaveLength(1);
  });

  describe('a paused ring', () => {
    const OOB: ReleaseToRoll = { id: 'OOB-2026-02', kind: 'hotpatch', releasedAt: '2026-02-20T17:00:00.000Z', baseline: 'B-2026-01', requires: ['HP-2026-02'], liveRevert: true, outOfBand: true, deferralsFrom: RELEASED };
    const broadInstructed = async (store: EventStore, rollout: string) => (await instructionsIn(store, `rollout/${rollout}`)).filter((d) => BROAD.includes(d));

    it('receives nothing new, whatever the release (out-of-band included), until the tenant lifts the tenant’s pause; its devices show as paused', async () => {
      const { store, clock, o } = await pilotInstructed();
      await o.pauseRing('broad', 'tenant', 'quarter-end freeze');
      await expect(o.pauseRing('canary', 'tenant', 'x')).rejects.toMatchObject({ code: 'UNKNOWN_RING' });
      await finishRollout(o, clock); // the pilot's gate passes; the broad ring's deferral passes
      const february = o.projection.rollouts.get(hotpatch.id)!;
      expect(february.state).toMatchObject({ value: 'betweenRings', context: { current: 0 } });
      expect(await broadInstructed(store, hotpatch.id)).toEqual([]);
      // An out-of-band fix: the pilot gets it; the paused broad ring does not, though its deferral has long passed.
      clock.jumpTo(OOB.releasedAt);
      await o.planRollout(OOB);
      for (let i = 0; i < 3; i++) {
        await o.tick();
        for (let k = 0; k < 3; k++) await agentsRespond(o);
        clock.advance(25 * 3600);
      }
      expect(o.projection.rollouts.get(OOB.id)!.state.context.rings[0]!.gatePassed).toBe(true);
      expect(await broadInstructed(store, OOB.id)).toEqual([]);
      expect(BROAD.map((d) => o.projection.devices.get(d)!.state.context.applied)).toEqual(BROAD.map(() => ({})));
      const status = fleetStatus(o.projection, o.projection.latestTime);
      expect(status.compliance.paused).toBe(4);
      expect(status.pausedRings).toEqual([{ ring: 'broad', since: RELEASED, holds: [{ by: 'tenant', reason: 'quarter-end freeze' }] }]);
      // The service pauses too, lifts its own pause, and cannot lift the tenant's.
      await o.pauseRing('broad', 'service', 'incident');
      await o.resumeRing('broad', 'service');
      await expect(o.resumeRing('broad', 'service')).rejects.toBeInstanceOf(TransitionRefusedError);
      expect((await o.tick()).ringsStarted).toBe(0);
      // The tenant lifts it: both rollouts start the broad ring (each device takes February's fix, then the fix).
      await o.resumeRing('broad', 'tenant');
      expect(await o.tick()).toMatchObject({ ringsStarted: 2 });
      for (let i = 0; i < 4; i++) {
        for (let k = 0; k < 3; k++) await agentsRespond(o);
        clock.advance(25 * 3600);
        await o.tick();
      }
      expect(BROAD.map((d) => Object.keys(o.projection.devices.get(d)!.state.context.applied).sort())).toEqual(BROAD.map(() => ['HP-2026-02', 'OOB-2026-02']));
      expect((await store.readStream('ring/broad')).map((e) => `${e.type} ${(e.data as { by: string }).by}`)).toEqual(['RingPaused tenant', 'RingPaused service', 'RingResumed service', 'RingResumed tenant']);
    });

    it('lets what is in flight finish, and its deadline does not run while it is paused', async () => {
      const { store, clock, o } = await pilotInstructed({ ...policy, maxInstructionsPerTick: 2 });
      await o.tick(); // the third pilot device
      for (let i = 0; i < 3; i++) await agentsRespond(o);
      clock.advance(25 * 3600);
      expect((await o.tick()).gatesPassed).toBe(1);
      clock.jumpTo('2026-02-13T17:00:00.000Z');
      expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 2 }); // two of the broad ring's devices
      expect(await broadInstructed(store, hotpatch.id)).toHaveLength(2);
      await o.pauseRing('broad', 'tenant', 'change freeze');
      // Those two finish while paused; nobody else is asked, for three weeks: past the ring's 14-day deadline.
      for (let day = 0; day < 21; day++) {
        for (let k = 0; k < 3; k++) await agentsRespond(o);
        clock.advance(24 * 3600);
        expect((await o.tick()).instructed).toBe(0);
      }
      expect(o.projection.rollouts.get(hotpatch.id)!.state).toMatchObject({ value: 'rolling', context: { rings: [{}, { succeeded: 2 }] } });
      await o.resumeRing('broad', 'tenant');
      expect(await o.tick()).toMatchObject({ instructed: 2, halted: 0 });
      for (let k = 0; k < 3; k++) await agentsRespond(o);
      clock.advance(25 * 3600);
      await o.tick();
      expect(o.projection.rollouts.get(hotpatch.id)!.state.value).toBe('completed');
      // A ring paused before its start and never resumed would halt by its deadline only counting unpaused days.
      expect(o.projection.ringPausedMs('broad', '2026-02-01T00:00:00.000Z', '2026-12-31T00:00:00.000Z')).toBe(21 * 24 * 3600_000);
    });

    it('a paused rollout’s ring deadline does not run while it is paused, nor twice when the ring is paused too', async () => {
      const { store, clock, o } = await pilotInstructed({ ...policy, maxInstructionsPerTick: 2 });
      await o.tick();
      for (let i = 0; i < 3; i++) await agentsRespond(o);
      clock.advance(25 * 3600);
      await o.tick();
      clock.jumpTo('2026-02-13T17:00:00.000Z');
      expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 2 });
      await o.pause(hotpatch.id, 'tenant', 'change freeze');
      clock.advance(5 * 24 * 3600);
      await o.pauseRing('broad', 'service', 'incident'); // overlapping the rollout's pause for 5 days
      for (let day = 0; day < 16; day++) {
        for (let k = 0; k < 3; k++) await agentsRespond(o);
        clock.advance(24 * 3600);
        await o.tick();
        if (day === 4) await o.resumeRing('broad', 'service');
      }
      await o.resume(hotpatch.id, 'tenant');
      // 21 days paused in all, past the 14-day deadline: the ring carries on where it stopped.
      expect(await o.tick()).toMatchObject({ instructed: 2, halted: 0 });
      const r = o.projection.rollouts.get(hotpatch.id)!;
      expect(r.pauses).toEqual([['2026-02-13T17:00:00.000Z', '2026-03-06T17:00:00.000Z']]);
      expect(o.projection.pausedMs(r, 'broad', '2026-02-13T17:00:00.000Z', '2026-03-10T00:00:00.000Z')).toBe(21 * 24 * 3600_000);
      expect(await broadInstructed(store, hotpatch.id)).toHaveLength(4);
    });

    it('leaves its devices out of the catch-up until it resumes', async () => {
      const { store, clock, o } = await pilotInstructed();
      await finishRollout(o, clock);
      expect(o.projection.rollouts.get(hotpatch.id)!.state.value).toBe('completed');
      await o.pauseRing('broad', 'service', 'incident');
      const engine = createEngine({ store, clock: () => clock.now() });
      await engine.execute({ type: 'EnrolDevice', device: 'late', profile: eligibleProfile, ring: 'broad', baseline: 'B-2026-01' });
      await engine.execute({ type: 'AssessEligibility', device: 'late', latestBaseline: 'B-2026-01' });
      for (let i = 0; i < 3; i++) expect((await o.tick()).caughtUp).toBe(0);
      expect(o.projection.devices.get('late')!.state.value).toBe('current');
      expect(complianceOf(o.projection, o.projection.devices.get('late')!, RELEASED)).toBe('paused');
      await o.resumeRing('broad', 'service');
      expect((await o.tick()).caughtUp).toBe(1);
      expect(o.projection.devices.get('late')!.state.value).toBe('applying');
    });
  });
});
