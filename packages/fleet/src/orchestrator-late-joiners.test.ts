import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { createEngine } from '@hotpatch/engine';
import { createOrchestrator, simulatedClock, type Orchestrator, type ReleaseToRoll, type SimulatedClock } from './index.js';
import { agentsRespond, BROAD, fleet, hotpatch, instructionsIn, PILOT, policy, RELEASED, reportId } from './orchestrator/testing/rollout-fixture.js';

describe('orchestrator', () => {
  describe('a device that joins after a rollout passed its ring', () => {
    const BASELINE: ReleaseToRoll = { id: 'B-2026-01', kind: 'baseline', releasedAt: '2026-01-13T17:00:00.000Z', baseline: 'B-2026-01', liveRevert: false };
    const MARCH: ReleaseToRoll = { id: 'HP-2026-03', kind: 'hotpatch', releasedAt: '2026-03-10T17:00:00.000Z', baseline: 'B-2026-01', requires: ['HP-2026-02'], liveRevert: true };
    /** Ticks, answers and lets time pass until the rollout is over (completed or halted). */
    async function untilOver(o: Orchestrator, clock: SimulatedClock, rollout: string, health: (device: string) => boolean = () => true) {
      for (let i = 0; i < 30 && !['completed', 'halted'].includes(o.projection.rollouts.get(rollout)?.state.value ?? ''); i++) {
        await o.tick();
        for (let k = 0; k < 3; k++) await agentsRespond(o, health);
        clock.advance(25 * 3600);
      }
      return o.projection.rollouts.get(rollout)!.state.value;
    }
    /** A fleet on last quarter's baseline, taken through January's baseline, February's and March's hotpatches. */
    async function quarter(store: EventStore, clock: SimulatedClock, febHealth: (device: string) => boolean = () => true) {
      const engine = createEngine({ store, clock: () => clock.now() });
      for (const [ring, ids] of [['pilot', PILOT], ['broad', BROAD]] as const) {
        for (const device of ids) {
          await engine.execute({ type: 'EnrolDevice', device, profile: eligibleProfile, ring, baseline: 'B-2025-10' });
          await engine.execute({ type: 'AssessEligibility', device, latestBaseline: 'B-2025-10' });
        }
      }
      const o = createOrchestrator({ store, clock, policy });
      await o.planRollout(BASELINE);
      expect(await untilOver(o, clock, BASELINE.id)).toBe('completed');
      clock.jumpTo(RELEASED);
      await o.planRollout(hotpatch);
      const february = await untilOver(o, clock, hotpatch.id, febHealth);
      clock.jumpTo(MARCH.releasedAt);
      await o.planRollout(MARCH);
      await untilOver(o, clock, MARCH.id);
      return { o, engine, february };
    }
    const joins = (engine: ReturnType<typeof createEngine>, device: string, ring: string) =>
      engine
        .execute({ type: 'EnrolDevice', device, profile: eligibleProfile, ring, baseline: 'B-2025-10' })
        .then(() => engine.execute({ type: 'AssessEligibility', device, latestBaseline: 'B-2026-01' }));

    it('gets what those rollouts proved in its ring, one step a tick: the baseline, an assessment, the hotpatches in order, each once', async () => {
      const store = createInMemoryEventStore();
      const clock = simulatedClock('2026-01-13T17:00:00.000Z');
      const { o, engine } = await quarter(store, clock);
      expect(o.projection.rollouts.get(MARCH.id)!.state.value).toBe('completed');
      // Joins the broad ring on last quarter's baseline: not eligible for hotpatches on it.
      await joins(engine, 'late', 'broad');
      expect(o.projection.devices.get('late')).toBeUndefined(); // the orchestrator learns of it on its next sync
      expect(await o.tick()).toMatchObject({ caughtUp: 1, instructed: 0 });
      expect(o.projection.devices.get('late')!.state).toMatchObject({ value: 'needsReboot', context: { rebootReason: 'baseline', rebootBaseline: 'B-2026-01' } });
      await agentsRespond(o);
      expect(o.projection.devices.get('late')!.state).toMatchObject({ value: 'ineligible', context: { baseline: 'B-2026-01' } });
      expect(await o.tick()).toMatchObject({ caughtUp: 1 }); // assessed again, on the latest baseline
      expect(o.projection.devices.get('late')!.state).toMatchObject({ value: 'current', context: { eligible: true } });
      expect(await o.tick()).toMatchObject({ caughtUp: 1 }); // February's hotpatch first: March's requires it
      expect(o.projection.devices.get('late')!.state.context.inFlight?.patch).toBe('HP-2026-02');
      expect((await o.tick()).caughtUp).toBe(0); // applying: nothing more until it reports
      await agentsRespond(o);
      await agentsRespond(o);
      expect(await o.tick()).toMatchObject({ caughtUp: 1 });
      await agentsRespond(o);
      await agentsRespond(o);
      expect(o.projection.devices.get('late')!.state).toMatchObject({ value: 'verified', context: { applied: { 'HP-2026-02': [], 'HP-2026-03': ['HP-2026-02'] } } });
      expect((await o.tick()).caughtUp).toBe(0);
      const types = (await store.readStream('device/late')).map((e) => e.type);
      expect(types).toEqual([
        'DeviceEnrolled',
        'EligibilityAssessed',
        'RebootRequired',
        'BaselineInstalled',
        'EligibilityAssessed',
        ...['PatchStaged', 'PatchApplyStarted', 'PatchApplied', 'PatchVerified'],
        ...['PatchStaged', 'PatchApplyStarted', 'PatchApplied', 'PatchVerified'],
      ]);
      // The rollouts' turns are over: nothing is counted in them.
      for (const id of [BASELINE.id, hotpatch.id, MARCH.id]) expect(await instructionsIn(store, `rollout/${id}`)).not.toContain('late');
      // A restarted instance looks at every device once, and finds nothing left to do.
      const again = createOrchestrator({ store, clock, policy });
      await again.planRollout(BASELINE);
      await again.planRollout(hotpatch);
      await again.planRollout(MARCH);
      expect((await again.tick()).caughtUp).toBe(0);
      expect(await store.readStream('device/late')).toHaveLength(types.length);
    });

    it('one that cannot take hotpatches gets the newest proven hotpatch’s cumulative update instead, once', async () => {
      const store = createInMemoryEventStore();
      const clock = simulatedClock('2026-01-13T17:00:00.000Z');
      const { o, engine } = await quarter(store, clock);
      await engine.execute({ type: 'EnrolDevice', device: 'late', profile: { ...eligibleProfile, vbs: false }, ring: 'broad', baseline: 'B-2025-10' });
      await engine.execute({ type: 'AssessEligibility', device: 'late', latestBaseline: 'B-2026-01' });
      // Another joins already running March's cumulative update (imaged with it): newer than January's baseline.
      await engine.execute({ type: 'EnrolDevice', device: 'imaged', profile: { ...eligibleProfile, vbs: false }, ring: 'broad', baseline: 'LCU-HP-2026-03' });
      await engine.execute({ type: 'AssessEligibility', device: 'imaged', latestBaseline: 'B-2026-01' });
      for (let i = 0; i < 6; i++) {
        await o.tick();
        await agentsRespond(o);
      }
      const late = o.projection.devices.get('late')!;
      const reboots = (await store.readStream('device/late')).filter((e) => e.type === 'RebootRequired').map((e) => e.data);
      // January's baseline, assessed again on it (still no VBS), then March's cumulative update (February's fix in it).
      expect(reboots).toEqual([
        { reason: 'baseline', baseline: 'B-2026-01' },
        { reason: 'eligibility', baseline: 'LCU-HP-2026-03' },
      ]);
      expect(late.state).toMatchObject({ value: 'ineligible', context: { baseline: 'LCU-HP-2026-03' } });
      expect((await store.readStream('device/imaged')).map((e) => e.type)).toEqual(['DeviceEnrolled', 'EligibilityAssessed']);
      for (const release of [BASELINE.id, hotpatch.id, MARCH.id]) expect(o.projection.releases.get(release)!.protectedSince.has('late')).toBe(true);
      // A restarted instance finds it up to date: not behind January's baseline, nothing to restart it for.
      const again = createOrchestrator({ store, clock, policy });
      for (const r of [BASELINE, hotpatch, MARCH]) await again.planRollout(r);
      expect((await again.tick()).caughtUp).toBe(0);
      expect((await store.readStream('device/late')).filter((e) => e.type === 'RebootRequired')).toHaveLength(2);
    });

    it('so does a member its ring’s turn set aside unasked (silent while busy), once it is back', async () => {
      const store = createInMemoryEventStore();
      const clock = simulatedClock(RELEASED);
      await fleet(store, clock);
      const o = createOrchestrator({ store, clock, policy });
      const engine = createEngine({ store, clock: () => clock.now() });
      await o.planRollout(hotpatch);
      await o.tick();
      await agentsRespond(o);
      await agentsRespond(o);
      clock.advance(25 * 3600);
      await o.tick();
      clock.jumpTo('2026-02-13T17:00:00.000Z');
      // b4 has a restart pending when the broad ring's turn comes, and its agent is silent (the laptop is off).
      await engine.execute({ type: 'RequireReboot', device: 'b4', reason: 'out-of-band', baseline: 'B-2026-01' });
      expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 3 });
      await agentsRespond(o, () => true, ['b4']);
      await agentsRespond(o, () => true, ['b4']);
      clock.advance(49 * 3600);
      // Silent for 48 h: set aside unasked; 3 of 3 counted verified: the gate passes, the rollout completes.
      expect(await o.tick()).toMatchObject({ setAside: 1, gatesPassed: 1 });
      expect(o.projection.rollouts.get(hotpatch.id)!.state.value).toBe('completed');
      expect(await instructionsIn(store, `rollout/${hotpatch.id}`)).not.toContain('b4');
      expect((await o.tick()).caughtUp).toBe(0); // still away
      await agentsRespond(o); // b4 is back: it restarts
      expect(o.projection.devices.get('b4')!.state.value).toBe('current');
      expect(await o.tick()).toMatchObject({ caughtUp: 1 });
      await agentsRespond(o);
      await agentsRespond(o);
      expect(o.projection.devices.get('b4')!.state).toMatchObject({ value: 'verified', context: { applied: { 'HP-2026-02': [] } } });
    });

    it('waits while the rollout that would bring it further is paused, and carries on when it resumes', async () => {
      const store = createInMemoryEventStore();
      const clock = simulatedClock('2026-01-13T17:00:00.000Z');
      const { o, engine } = await quarter(store, clock);
      // April's baseline passes the pilot's gate, then the tenant pauses it before the broad ring.
      const APRIL: ReleaseToRoll = { id: 'B-2026-04', kind: 'baseline', releasedAt: '2026-04-14T17:00:00.000Z', baseline: 'B-2026-04', liveRevert: false };
      clock.jumpTo(APRIL.releasedAt);
      await o.planRollout(APRIL);
      for (let i = 0; i < 4 && !o.projection.rollouts.get(APRIL.id)!.state.context.rings[0]?.gatePassed; i++) {
        await o.tick();
        for (let k = 0; k < 3; k++) await agentsRespond(o);
        clock.advance(25 * 3600);
      }
      expect(o.projection.rollouts.get(APRIL.id)!.state.context.rings[0]!.gatePassed).toBe(true);
      await o.pause(APRIL.id, 'tenant', 'change freeze');
      // A pilot device joins on January's baseline: it gets January's quarter, not April's, while April is paused.
      await engine.execute({ type: 'EnrolDevice', device: 'late', profile: eligibleProfile, ring: 'pilot', baseline: 'B-2026-01' });
      await engine.execute({ type: 'AssessEligibility', device: 'late', latestBaseline: 'B-2026-01' });
      for (let i = 0; i < 6; i++) {
        await o.tick();
        for (let k = 0; k < 2; k++) await agentsRespond(o);
      }
      const reboots = async () => (await store.readStream('device/late')).filter((e) => e.type === 'RebootRequired').map((e) => (e.data as { baseline?: string }).baseline);
      expect(o.projection.devices.get('late')!.state).toMatchObject({ value: 'verified', context: { baseline: 'B-2026-01', applied: { 'HP-2026-02': [], 'HP-2026-03': ['HP-2026-02'] } } });
      expect(await reboots()).toEqual([]);
      await o.resume(APRIL.id, 'tenant');
      expect((await o.tick()).caughtUp).toBe(1);
      expect(await reboots()).toEqual(['B-2026-04']);
    });

    it('two instances over one log: each step written once, and when one stops the other carries on from the device’s state', async () => {
      const store = createInMemoryEventStore();
      const clock = simulatedClock('2026-01-13T17:00:00.000Z');
      const { o: a, engine } = await quarter(store, clock);
      const b = createOrchestrator({ store, clock, policy });
      for (const r of [BASELINE, hotpatch, MARCH]) await b.planRollout(r);
      expect((await b.tick()).caughtUp).toBe(0); // b looks at every device once: nothing to do
      await joins(engine, 'late', 'broad');
      // a asks for the restart; b, a moment later, sees it asked (its sync reads a's events) and waits for it.
      expect((await a.tick()).caughtUp).toBe(1);
      expect((await b.tick()).caughtUp).toBe(0);
      await agentsRespond(b);
      // Then a stops (it dies), and b carries on from where the device is.
      for (let i = 0; i < 6; i++) {
        await b.tick();
        await agentsRespond(b);
        await agentsRespond(b);
      }
      const types = (await store.readStream('device/late')).map((e) => e.type);
      expect(types.filter((t) => t === 'RebootRequired')).toHaveLength(1);
      expect(types.filter((t) => t === 'EligibilityAssessed')).toHaveLength(2);
      expect(types.filter((t) => t === 'PatchStaged')).toHaveLength(2);
      expect(b.projection.devices.get('late')!.state).toMatchObject({ value: 'verified', context: { applied: { 'HP-2026-02': [], 'HP-2026-03': ['HP-2026-02'] } } });
    });

    it('a device unwell on the baseline it was caught up with is taken off it, and not restarted onto it again', async () => {
      const store = createInMemoryEventStore();
      const clock = simulatedClock('2026-01-13T17:00:00.000Z');
      const { o, engine } = await quarter(store, clock);
      await joins(engine, 'late', 'broad');
      expect((await o.tick()).caughtUp).toBe(1);
      await o.report({ id: reportId(), device: 'late', kind: 'baseline-installed', baseline: 'B-2026-01', healthy: false, signal: 'boot loop' });
      // Uninstalled: a restart back to the baseline it came with.
      expect(o.projection.devices.get('late')!.state).toMatchObject({ value: 'needsReboot', context: { rebootReason: 'update-uninstall', rebootBaseline: 'B-2025-10' } });
      await agentsRespond(o);
      for (let i = 0; i < 5; i++) {
        await o.tick();
        await agentsRespond(o);
      }
      const reboots = (await store.readStream('device/late')).filter((e) => e.type === 'RebootRequired').map((e) => (e.data as { reason: string }).reason);
      expect(reboots).toEqual(['baseline', 'update-uninstall']);
      expect(o.projection.devices.get('late')!.state.context.baseline).toBe('B-2025-10');
    });

    it('is not given a halted release, a patch that failed on it is not tried again, and a restart finds one left behind', async () => {
      const store = createInMemoryEventStore();
      const clock = simulatedClock('2026-01-13T17:00:00.000Z');
      // February's hotpatch halts in the pilot ring (two failures past a budget of one); March's requires it.
      const { o, engine, february } = await quarter(store, clock, (d) => !['p1', 'p2'].includes(d));
      expect(february).toBe('halted');
      await joins(engine, 'late', 'pilot');
      for (let i = 0; i < 6; i++) {
        await o.tick();
        await agentsRespond(o);
      }
      // The baseline, the assessment; no hotpatch (February's halted, March's needs it).
      expect((await store.readStream('device/late')).map((e) => e.type)).toEqual(['DeviceEnrolled', 'EligibilityAssessed', 'RebootRequired', 'BaselineInstalled', 'EligibilityAssessed']);

      // A good February: a device that joins and is not well on it is rolled back live, and not given it again.
      const store2 = createInMemoryEventStore();
      const clock2 = simulatedClock('2026-01-13T17:00:00.000Z');
      const second = await quarter(store2, clock2);
      await joins(second.engine, 'unwell', 'broad');
      for (let i = 0; i < 8; i++) {
        await second.o.tick();
        await agentsRespond(second.o, (d) => d !== 'unwell');
      }
      const events = await store2.readStream('device/unwell');
      expect(events.filter((e) => e.type === 'PatchStaged').map((e) => (e.data as { patch: string }).patch)).toEqual(['HP-2026-02']);
      expect(events.map((e) => e.type).slice(-3)).toEqual(['HealthCheckFailed', 'RollbackStarted', 'PatchRolledBack']);
      // A device that joined while no instance was running: a new instance looks at every device.
      await joins(second.engine, 'while-down', 'broad');
      const restarted = createOrchestrator({ store: store2, clock: clock2, policy });
      for (const r of [BASELINE, hotpatch, MARCH]) await restarted.planRollout(r);
      expect(await restarted.tick()).toMatchObject({ caughtUp: 1 });
      expect(restarted.projection.devices.get('while-down')!.state.value).toBe('needsReboot');
    });
  });
});
