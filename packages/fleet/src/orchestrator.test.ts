import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TransitionRefusedError } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { createEngine, timeOfId } from '@hotpatch/engine';
import { complianceOf, createOrchestrator, FleetProjection, fleetStatus, simulatedClock, type AgentReport, type FleetPolicy, type Orchestrator, type ReleaseToRoll, type SimulatedClock } from './index.js';
// The simulator's device agent, by path: its modules import fleet's types only, so no package cycle (see its README).
import { deviceAgent } from '../../simulator/src/agent.js';
import { scriptedAnswers } from '../../simulator/src/scripted-answers.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-fleet-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const policy: FleetPolicy = {
  rings: [
    { name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 24 }, deadlineDays: 5 },
    { name: 'broad', deferralDays: 3, budget: { percent: 25 }, gate: { minVerifiedShare: 0.75, maxFailureRate: 0.25, minSoakHours: 24 }, deadlineDays: 14 },
  ],
  applyTimeoutMinutes: 60,
  silenceHours: 48,
};
const RELEASED = '2026-02-10T17:00:00.000Z';
const hotpatch: ReleaseToRoll = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: RELEASED, baseline: 'B-2026-01', liveRevert: true };
const PILOT = ['p1', 'p2', 'p3'];
const BROAD = ['b1', 'b2', 'b3', 'b4'];

async function fleet(store: EventStore, clock: SimulatedClock, ineligible: string[] = []) {
  const engine = createEngine({ store, clock: () => clock.now() });
  for (const [ring, ids] of [['pilot', PILOT], ['broad', BROAD]] as const) {
    for (const device of ids) {
      await engine.execute({ type: 'EnrolDevice', device, profile: ineligible.includes(device) ? { ...eligibleProfile, vbs: false } : eligibleProfile, ring, baseline: 'B-2026-01' });
      await engine.execute({ type: 'AssessEligibility', device, latestBaseline: 'B-2026-01' });
    }
  }
}

let reportSeq = 0;
const reportId = () => `0193f2a0-0000-7000-8000-${(++reportSeq).toString(16).padStart(12, '0')}`;

/** Simulated agents: each device in flight reports what it did at once; `health` decides its health check. */
async function agentsRespond(o: Orchestrator, health: (device: string) => boolean = () => true, silent: string[] = [], stalled: string[] = []) {
  const agent = deviceAgent(
    scriptedAnswers({
      apply: (d) => (stalled.includes(d.id) ? { kind: 'stalled' } : { kind: 'applied', after: 0 }),
      health: (d) => ({ healthy: health(d.id), after: 0, signal: 'crash rate' }),
      restart: () => ({ after: 0 }),
      reportId,
    }),
  );
  for (const d of [...o.projection.devices.values()]) {
    if (silent.includes(d.id)) continue;
    const reports: AgentReport[] = [];
    agent(d, 0, (_, report) => reports.push(report));
    for (const report of reports) await o.report(report);
  }
}

const instructionsIn = async (store: EventStore, stream: string) => (await store.readStream(stream)).filter((e) => e.type === 'DeviceInstructed').map((e) => (e.data as { device: string }).device);

/**
 * A restarted instance carries the rollout on from a first instance that instructed two pilot devices: the third
 * pilot device, the gate, the broad ring; every device instructed once, and the rollout completed.
 */
async function finishAfterRestart(b: Orchestrator, clock: SimulatedClock, store: EventStore) {
  await b.planRollout(hotpatch); // already planned: nothing written
  expect(await b.tick()).toMatchObject({ instructed: 1 });
  await finishRollout(b, clock);
  expect(b.projection.rollouts.get('HP-2026-02')!.state.value).toBe('completed');
  expect((await instructionsIn(store, 'rollout/HP-2026-02')).sort()).toEqual([...PILOT, ...BROAD].sort());
}

/** Takes the pilot ring of `hotpatch` (instructed) through its soak and gate, then the broad ring to its end. */
async function finishRollout(b: Orchestrator, clock: SimulatedClock) {
  for (let i = 0; i < 3; i++) await agentsRespond(b);
  clock.advance(25 * 3600);
  await b.tick();
  clock.jumpTo('2026-02-13T17:00:00.000Z');
  await b.tick();
  for (let i = 0; i < 3; i++) await agentsRespond(b);
  clock.advance(25 * 3600);
  await b.tick();
}

/** A fleet, an orchestrator with `rollPolicy`, and `release`'s rollout planned and ticked once (the pilot instructed). */
async function pilotInstructed(rollPolicy: FleetPolicy = policy, release: ReleaseToRoll = hotpatch) {
  const store = createInMemoryEventStore();
  const clock = simulatedClock(RELEASED);
  await fleet(store, clock);
  const o = createOrchestrator({ store, clock, policy: rollPolicy });
  await o.planRollout(release);
  await o.tick();
  return { store, clock, o };
}

describe('orchestrator', () => {
  it('takes a good hotpatch through the pilot ring, its gate, the deferral and the broad ring', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock);
    const o = createOrchestrator({ store, clock, policy });
    await o.planRollout(hotpatch);
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 3 });
    await agentsRespond(o); // applied
    await agentsRespond(o); // healthy
    expect((await o.tick()).gatesPassed).toBe(0); // verified, but not soaked for 24 h yet
    clock.advance(25 * 3600);
    expect((await o.tick()).gatesPassed).toBe(1);
    expect((await o.tick()).ringsStarted).toBe(0); // broad is deferred 3 days after the release
    clock.jumpTo('2026-02-13T17:00:00.000Z');
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 4 });
    await agentsRespond(o);
    await agentsRespond(o);
    clock.advance(25 * 3600);
    await o.tick();
    expect(o.projection.rollouts.get('HP-2026-02')!.state.value).toBe('completed');
    for (const id of [...PILOT, ...BROAD]) expect(o.projection.devices.get(id)!.state).toMatchObject({ value: 'verified', context: { applied: { 'HP-2026-02': [] } } });
    expect(o.projection.releases.get('HP-2026-02')!.protectedSince.size).toBe(7);
    // Its ids are led by the release's date (every instance knows it), so they lie together in the store's index.
    const rolloutIds = (await store.readStream('rollout/HP-2026-02')).map((e) => e.id);
    const staged = (await store.readAll()).filter((e) => e.type === 'PatchStaged' || e.type === 'PatchApplyStarted').map((e) => e.id);
    for (const id of [...rolloutIds, ...staged]) expect(timeOfId(id)).toBe(Date.parse(RELEASED));
  });

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

  it('catches a bad hotpatch in the pilot ring: halts by itself, rolls the pilot back live, broad never receives it', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock);
    const o = createOrchestrator({ store, clock, policy });
    await o.planRollout(hotpatch);
    await o.tick();
    await agentsRespond(o); // applied
    await agentsRespond(o, (d) => d === 'p3'); // p1 and p2 unhealthy: the second failure passes the budget of 1
    const rollout = o.projection.rollouts.get('HP-2026-02')!;
    expect(rollout.state.value).toBe('halted');
    expect(rollout.state.context.haltReason).toMatch(/pilot: failures past the disruption budget \(2 > 1\)/);
    // p3 was healthy, but the halt rolls back what the ring applied; the failed ones were rolling back already.
    const p3 = (await store.readStream('device/p3')).map((e) => [e.type, (e.data as { reason?: string }).reason]);
    expect(p3).toContainEqual(['RollbackStarted', expect.stringMatching(/^rollout HP-2026-02 halted: pilot: failures past the disruption budget/)]);
    await agentsRespond(o);
    for (const id of PILOT) expect(o.projection.devices.get(id)!.state).toMatchObject({ value: 'rolledBack', context: { applied: {} } });
    clock.jumpTo('2026-02-20T00:00:00.000Z');
    expect(await o.tick()).toMatchObject({ ringsStarted: 0, instructed: 0 });
    expect(await instructionsIn(store, 'rollout/HP-2026-02')).toEqual(PILOT);
    for (const id of BROAD) expect(o.projection.devices.get(id)!.state.value).toBe('current');
  });

  it('marks devices for reboot instead when the halted patch cannot be reverted live', async () => {
    const { store, o } = await pilotInstructed(policy, { ...hotpatch, liveRevert: false });
    await agentsRespond(o);
    await agentsRespond(o, (d) => d === 'p3');
    const p3 = (await store.readStream('device/p3')).map((e) => e.type);
    expect(p3).toContain('RebootRequired');
    expect(p3).not.toContain('RollbackStarted');
    expect((await store.readStream('device/p3')).find((e) => e.type === 'RebootRequired')!.data).toEqual({ reason: 'not-live-revertible' });
  });

  it('fails a cumulative update a device is unwell on, uninstalls it, and past the budget halts and uninstalls it from the ring', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock);
    const o = createOrchestrator({ store, clock, policy });
    const update: ReleaseToRoll = { id: 'LCU-2026-02', kind: 'baseline', releasedAt: RELEASED, baseline: 'LCU-2026-02', liveRevert: true };
    await o.planRollout(update);
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 3 });
    const install = (device: string, healthy: boolean) =>
      o.report({ id: reportId(), device, kind: 'baseline-installed', baseline: 'LCU-2026-02', ...(healthy ? {} : { healthy: false, signal: 'crash rate' }) });
    // p1 is well on it; p2 is not: its install is recorded, the rollout counts a failure, and it goes back.
    await install('p1', true);
    expect(await install('p2', false)).toMatchObject({ status: 'recorded' });
    const p2 = await store.readStream('device/p2');
    expect(p2.slice(-2).map((e) => [e.type, e.data])).toEqual([
      ['BaselineInstalled', { baseline: 'LCU-2026-02' }],
      ['RebootRequired', { reason: 'update-uninstall', baseline: 'B-2026-01' }],
    ]);
    const outcomes = async () => (await store.readStream('rollout/LCU-2026-02')).filter((e) => e.type === 'DeviceFailed' || e.type === 'DeviceSucceeded').map((e) => [e.type, (e.data as { device: string }).device]);
    expect(await outcomes()).toEqual([
      ['DeviceSucceeded', 'p1'],
      ['DeviceFailed', 'p2'],
    ]);
    // A retried report changes nothing.
    await o.report({ id: (p2.at(-2)!.meta as { command: string }).command, device: 'p2', kind: 'baseline-installed', baseline: 'LCU-2026-02', healthy: false });
    expect((await store.readStream('device/p2')).length).toBe(p2.length);
    // The second failure passes the pilot's budget (1): the rollout halts, and p1, which installed it, goes back too.
    await install('p3', false);
    expect(o.projection.rollouts.get('LCU-2026-02')!.state.value).toBe('halted');
    for (const device of ['p1', 'p3']) expect((await store.readStream(`device/${device}`)).at(-1)!.data).toEqual({ reason: 'update-uninstall', baseline: 'B-2026-01' });
    // Going back is a restart like any other; the broad ring never receives the update.
    await agentsRespond(o);
    for (const device of PILOT) expect(o.projection.devices.get(device)!.state.context.baseline).toBe('B-2026-01');
    clock.advance(10 * 24 * 3600);
    await o.tick();
    expect(await instructionsIn(store, 'rollout/LCU-2026-02')).toEqual(PILOT);
  });

  it('takes retried, duplicated, out-of-order and late reports without recording anything twice', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock);
    const o = createOrchestrator({ store, clock, policy });
    await o.planRollout(hotpatch);
    await o.tick();
    const applied = { id: reportId(), device: 'p1', kind: 'applied' as const, patch: 'HP-2026-02' };
    expect(await o.report(applied)).toMatchObject({ status: 'recorded' });
    expect(await o.report(applied)).toEqual({ status: 'duplicate' });
    // p2's health report overtakes its apply report: both facts are recorded, in order.
    expect(await o.report({ id: reportId(), device: 'p2', kind: 'health', patch: 'HP-2026-02', healthy: true })).toMatchObject({ status: 'recorded', events: 2 });
    expect((await store.readStream('device/p2')).slice(-2).map((e) => e.type)).toEqual(['PatchApplied', 'PatchVerified']);
    // Then its late apply report arrives: it no longer matches the device, and stays out of the log.
    const before = (await store.readAll()).length;
    expect(await o.report({ id: reportId(), device: 'p2', kind: 'applied', patch: 'HP-2026-02' })).toMatchObject({ status: 'ignored' });
    expect(await o.report({ id: reportId(), device: 'nope', kind: 'applied', patch: 'HP-2026-02' })).toMatchObject({ status: 'ignored', reason: 'unknown device nope' });
    expect((await store.readAll()).length).toBe(before);
  });

  it('times out a stalled apply (a failure) and sets silent agents aside (not a failure)', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock);
    const o = createOrchestrator({ store, clock, policy: { ...policy, rings: [{ ...policy.rings[0]!, budget: { count: 2 } }, policy.rings[1]!] } });
    await o.planRollout(hotpatch);
    await o.tick();
    await agentsRespond(o, () => true, [], ['p2']); // p2 stalls in applying; p1 and p3 apply
    await agentsRespond(o, () => true, ['p3'], ['p2']); // p1 reports healthy; p3's agent falls silent
    clock.advance(61 * 60);
    expect(await o.tick()).toMatchObject({ timedOut: 1 });
    expect(o.projection.devices.get('p2')!.state.value).toBe('rollingBack');
    clock.advance(48 * 3600);
    expect(await o.tick()).toMatchObject({ setAside: 1 });
    const progress = o.projection.rollouts.get('HP-2026-02')!.state.context.rings[0]!;
    expect(progress).toMatchObject({ succeeded: 1, failed: 1, setAside: 1, inFlight: 0 });
    const timeouts = (await store.readStream('rollout/HP-2026-02')).filter((e) => e.type === 'DeviceFailed').map((e) => e.data);
    expect(timeouts).toEqual([{ ring: 'pilot', device: 'p2', reason: 'timeout' }]);
  });

  it('gives a device whose hotpatch did not take the release’s cumulative update once its ring proved the release, and not one the hotpatch made unwell', async () => {
    const lenient = { ...policy.rings[0]!, budget: { count: 3 }, gate: { minVerifiedShare: 0.25, maxFailureRate: 0.8, minSoakHours: 24 } };
    const { store, clock, o } = await pilotInstructed({ ...policy, rings: [lenient, policy.rings[1]!] });
    // p1 applies and is healthy; p2's apply fails; p3 applies and is unwell. Each failure is rolled back live.
    await o.report({ id: reportId(), device: 'p2', kind: 'apply-failed', patch: 'HP-2026-02', reason: 'transition did not converge' });
    await agentsRespond(o, (d) => d !== 'p3');
    for (let i = 0; i < 3; i++) await agentsRespond(o, (d) => d !== 'p3');
    await o.tick();
    // Not before the ring's gate passed: the release is not proven yet.
    expect(o.projection.devices.get('p2')!.state.value).toBe('rolledBack');
    expect(o.projection.devices.get('p3')!.state.value).toBe('rolledBack');
    clock.advance(25 * 3600);
    expect((await o.tick()).gatesPassed).toBe(1);
    expect(o.projection.devices.get('p2')!.state).toMatchObject({ value: 'needsReboot', context: { rebootReason: 'hotpatch-failed', rebootBaseline: 'LCU-HP-2026-02' } });
    expect(o.projection.devices.get('p3')!.state.value).toBe('rolledBack');
    await agentsRespond(o);
    expect(o.projection.devices.get('p2')!.state.context.baseline).toBe('LCU-HP-2026-02');
    expect(o.projection.releases.get('HP-2026-02')!.protectedSince.has('p2')).toBe(true);
    expect(complianceOf(o.projection, o.projection.devices.get('p2')!, RELEASED)).toBe('up to date');
    expect(complianceOf(o.projection, o.projection.devices.get('p3')!, RELEASED)).toBe('not up to date');
    // Once: later ticks restart nothing more.
    clock.advance(3600);
    await o.tick();
    const restarts = (await store.readStream('device/p2')).filter((e) => e.type === 'RebootRequired');
    expect(restarts.map((e) => e.data)).toEqual([{ reason: 'hotpatch-failed', baseline: 'LCU-HP-2026-02' }]);
    expect((await store.readStream('device/p3')).some((e) => e.type === 'RebootRequired')).toBe(false);
  });

  it('sends the restart a failed hotpatch needs anyway onto the cumulative update, once an earlier ring proved the release', async () => {
    const { store, clock, o } = await pilotInstructed(policy, { ...hotpatch, liveRevert: false });
    // Pilot: p1's apply fails (nothing has proved the release yet: back to its baseline), p2 and p3 verify.
    await o.report({ id: reportId(), device: 'p1', kind: 'apply-failed', patch: 'HP-2026-02', reason: 'transition did not converge' });
    expect(o.projection.devices.get('p1')!.state.context).toMatchObject({ rebootReason: 'not-live-revertible', rebootBaseline: null });
    for (let i = 0; i < 3; i++) await agentsRespond(o);
    clock.advance(25 * 3600);
    expect((await o.tick()).gatesPassed).toBe(1);
    clock.jumpTo('2026-02-13T17:00:00.000Z');
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 4 });
    // Broad: b1's apply fails after the pilot proved the release: its one restart goes onto the cumulative update.
    await o.report({ id: reportId(), device: 'b1', kind: 'apply-failed', patch: 'HP-2026-02', reason: 'transition did not converge' });
    expect(o.projection.devices.get('b1')!.state).toMatchObject({ value: 'needsReboot', context: { rebootReason: 'not-live-revertible', rebootBaseline: 'LCU-HP-2026-02' } });
    for (let i = 0; i < 3; i++) await agentsRespond(o);
    clock.advance(25 * 3600);
    await o.tick();
    await agentsRespond(o);
    const installs = async (device: string) => (await store.readStream(`device/${device}`)).filter((e) => e.type === 'BaselineInstalled').map((e) => (e.data as { baseline: string }).baseline);
    // (Both were enrolled on B-2026-01 without a restart.) b1: one restart; p1: back to its baseline, then the update.
    expect(await installs('b1')).toEqual(['LCU-HP-2026-02']);
    expect(await installs('p1')).toEqual(['B-2026-01', 'LCU-HP-2026-02']);
    expect((await store.readStream('device/b1')).filter((e) => e.type === 'RebootRequired').map((e) => e.data)).toEqual([
      { reason: 'not-live-revertible' },
      { reason: 'hotpatch-failed', baseline: 'LCU-HP-2026-02' },
    ]);
  });

  it('takes that cumulative update off again when the ring it was given in halts', async () => {
    const { clock, o } = await pilotInstructed(policy, { ...hotpatch, liveRevert: false });
    for (let i = 0; i < 3; i++) await agentsRespond(o);
    clock.advance(25 * 3600);
    await o.tick();
    clock.jumpTo('2026-02-13T17:00:00.000Z');
    await o.tick();
    // b1 fails (its restart goes onto the cumulative update) and restarts; b2 fails too: past the broad budget.
    await o.report({ id: reportId(), device: 'b1', kind: 'apply-failed', patch: 'HP-2026-02', reason: 'transition did not converge' });
    await o.report({ id: reportId(), device: 'b1', kind: 'baseline-installed', baseline: 'LCU-HP-2026-02' });
    expect(o.projection.devices.get('b1')!.state.context.baseline).toBe('LCU-HP-2026-02');
    await o.report({ id: reportId(), device: 'b2', kind: 'apply-failed', patch: 'HP-2026-02', reason: 'transition did not converge' });
    await o.tick();
    expect(o.projection.rollouts.get('HP-2026-02')!.state.value).toBe('halted');
    expect(o.projection.devices.get('b1')!.state.context).toMatchObject({ rebootReason: 'update-uninstall', rebootBaseline: 'B-2026-01' });
    // b2's failure halted the rollout: its restart is not sent onto the halted release's update.
    expect(o.projection.devices.get('b2')!.state.context).toMatchObject({ rebootReason: 'not-live-revertible', rebootBaseline: null });
    await agentsRespond(o);
    await o.tick();
    expect(o.projection.devices.get('b2')!.state).toMatchObject({ value: 'current', context: { baseline: 'B-2026-01' } });
  });

  it('leaves a device whose hotpatch did not take for the next release when the policy says so', async () => {
    const lenient = { ...policy.rings[0]!, budget: { count: 3 }, gate: { minVerifiedShare: 0.25, maxFailureRate: 0.8, minSoakHours: 24 } };
    const { store, clock, o } = await pilotInstructed({ ...policy, rings: [lenient, policy.rings[1]!], afterFailedHotpatch: 'next-release' });
    await o.report({ id: reportId(), device: 'p2', kind: 'apply-failed', patch: 'HP-2026-02', reason: 'transition did not converge' });
    for (let i = 0; i < 3; i++) await agentsRespond(o);
    clock.advance(25 * 3600);
    expect((await o.tick()).gatesPassed).toBe(1);
    clock.advance(3600);
    await o.tick();
    expect(o.projection.devices.get('p2')!.state.value).toBe('rolledBack');
    expect((await store.readStream('device/p2')).some((e) => e.type === 'RebootRequired')).toBe(false);
  });

  it('gives no cumulative update for a hotpatch whose rollout halted', async () => {
    const { store, clock, o } = await pilotInstructed();
    // Two apply failures in the pilot ring, past its budget of one: the rollout halts.
    for (const device of ['p1', 'p2']) await o.report({ id: reportId(), device, kind: 'apply-failed', patch: 'HP-2026-02', reason: 'stalled' });
    for (let i = 0; i < 4; i++) {
      await agentsRespond(o);
      clock.advance(25 * 3600);
      await o.tick();
    }
    expect(o.projection.rollouts.get('HP-2026-02')!.state.value).toBe('halted');
    for (const device of ['p1', 'p2']) expect((await store.readStream(`device/${device}`)).some((e) => e.type === 'RebootRequired')).toBe(false);
  });

  it('carries on a rollout another instance planned, from its recorded plan alone', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock, ['b2']);
    // a plans the release (its cumulative update named as the vendor names it) and starts the pilot ring, then stops.
    const a = createOrchestrator({ store, clock, policy });
    await a.planRollout({ ...hotpatch, cumulativeUpdate: 'KB5051987' });
    expect(await a.tick()).toMatchObject({ ringsStarted: 1, instructed: 3 });
    // b was never told of the release: it learns it from the log, takes the reports, passes the gate, runs the
    // broad ring, and gives the ineligible b2 the cumulative update the plan names.
    const b = createOrchestrator({ store, clock, policy });
    expect(await b.tick()).toMatchObject({ instructed: 0 }); // reads the log; the pilot ring is a's, in flight
    await finishRollout(b, clock);
    expect(b.projection.rollouts.get('HP-2026-02')!.state.value).toBe('completed');
    expect(b.projection.devices.get('b2')!.state).toMatchObject({ value: 'ineligible', context: { baseline: 'KB5051987' } });
    expect(b.projection.releases.get('HP-2026-02')!.protectedSince.has('b2')).toBe(true);
    // A projection restored from its saved form knows the plan too.
    const restored = new FleetProjection();
    expect(restored.restore(b.projection.serialize())).toBe(true);
    expect(restored.rollouts.get('HP-2026-02')!.plan).toMatchObject({ release: 'HP-2026-02', cumulativeUpdate: 'KB5051987' });
  });

  it('expedites an out-of-band release: a ring whose deferral has passed since the Patch Tuesday gets it once the ring before passes its gate', async () => {
    const OOB_AT = '2026-02-20T17:00:00.000Z';
    const oob: ReleaseToRoll = { id: 'OOB-2026-02', kind: 'hotpatch', releasedAt: OOB_AT, baseline: 'B-2026-01', liveRevert: true, outOfBand: true, deferralsFrom: RELEASED };
    const store = createInMemoryEventStore();
    const clock = simulatedClock(OOB_AT);
    await fleet(store, clock);
    const o = createOrchestrator({ store, clock, policy });
    await o.planRollout(oob);
    expect((await store.readStream('rollout/OOB-2026-02'))[0]!.data).toMatchObject({ deferralsFrom: RELEASED, outOfBand: true });
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 3 });
    await agentsRespond(o);
    await agentsRespond(o);
    clock.advance(25 * 3600);
    // The pilot's gate passes after its soak, and the broad ring (3 days' deferral, long past since 10 February)
    // starts on the next tick, not on 23 February.
    expect((await o.tick()).gatesPassed).toBe(1);
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 4 });
    expect(o.projection.rollouts.get('OOB-2026-02')!.state.context.rings[1]!.startedAt).toBe('2026-02-21T18:00:00.000Z');
  });

  it('gives an ineligible device the traditional update with a restart instead of the hotpatch', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock, ['p2']);
    const o = createOrchestrator({ store, clock, policy });
    await o.planRollout(hotpatch);
    await o.tick();
    expect(o.projection.devices.get('p2')!.state).toMatchObject({ value: 'needsReboot', context: { rebootReason: 'eligibility' } });
    const instructed = (await store.readStream('rollout/HP-2026-02')).filter((e) => e.type === 'DeviceInstructed').map((e) => [(e.data as { device: string }).device, (e.data as { action: string }).action]);
    expect(instructed).toEqual([['p1', 'hotpatch'], ['p2', 'reboot'], ['p3', 'hotpatch']]);
    // The update it is restarted onto is the release's cumulative update: the same fix, so it protects the device.
    expect(o.projection.devices.get('p2')!.state.context.rebootBaseline).toBe('LCU-HP-2026-02');
    expect((await store.readStream('rollout/HP-2026-02'))[0]!.data).toMatchObject({ cumulativeUpdate: 'LCU-HP-2026-02' });
    await agentsRespond(o);
    await agentsRespond(o);
    await o.tick();
    const p2 = o.projection.devices.get('p2')!;
    expect(p2.state).toMatchObject({ value: 'ineligible', context: { baseline: 'LCU-HP-2026-02' } });
    expect(o.projection.releases.get('HP-2026-02')!.protectedSince.get('p2')).toBeDefined();
    expect(complianceOf(o.projection, p2, RELEASED)).toBe('up to date');
    expect(o.projection.rollouts.get('HP-2026-02')!.outcomes.get('p2')).toBe('succeeded');
    // A projection rebuilt from its saved form knows the cumulative update too.
    const restored = new FleetProjection();
    expect(restored.restore(o.projection.serialize())).toBe(true);
    expect(complianceOf(restored, restored.devices.get('p2')!, RELEASED)).toBe('up to date');
    // Another rollout of a release as old does not restart it again.
    const again = createOrchestrator({ store, clock, policy });
    await again.planRollout(hotpatch);
    await again.planRollout({ ...hotpatch, id: 'HP-2026-02-again' });
    await again.tick();
    expect(again.projection.devices.get('p2')!.state.value).toBe('ineligible');
    expect(await instructionsIn(store, 'rollout/HP-2026-02-again')).toEqual(['p1', 'p3']);
  });

  it('takes the cumulative update off an ineligible device unwell on it, and off the ring’s others when the rollout halts', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock, ['p2', 'p3']);
    const o = createOrchestrator({ store, clock, policy });
    await o.planRollout(hotpatch);
    await o.tick();
    // p2 is not well on the cumulative update: it fails the rollout, and is restarted back onto its baseline.
    await o.report({ id: reportId(), device: 'p2', kind: 'baseline-installed', baseline: 'LCU-HP-2026-02', healthy: false, signal: 'boot loop' });
    expect(o.projection.rollouts.get('HP-2026-02')!.outcomes.get('p2')).toBe('failed');
    expect(o.projection.devices.get('p2')!.state).toMatchObject({ value: 'needsReboot', context: { rebootReason: 'update-uninstall', rebootBaseline: 'B-2026-01' } });
    // p3 installs it well; p1's hotpatch fails its health check: two failures past a budget of one, the rollout
    // halts, and p3's cumulative update is taken off as p1's hotpatch is rolled back.
    await o.report({ id: reportId(), device: 'p3', kind: 'baseline-installed', baseline: 'LCU-HP-2026-02' });
    expect(o.projection.devices.get('p3')!.state.context.baseline).toBe('LCU-HP-2026-02');
    await agentsRespond(o, () => false);
    await agentsRespond(o, () => false);
    expect(o.projection.rollouts.get('HP-2026-02')!.state.value).toBe('halted');
    await agentsRespond(o);
    await o.tick();
    const reboots = async (device: string) => (await store.readStream(`device/${device}`)).filter((e) => e.type === 'RebootRequired').map((e) => e.data);
    expect(await reboots('p3')).toEqual([
      { reason: 'eligibility', baseline: 'LCU-HP-2026-02' },
      { reason: 'update-uninstall', baseline: 'B-2026-01' },
    ]);
    expect(await reboots('p2')).toEqual(await reboots('p3'));
    for (const id of ['p2', 'p3']) expect(o.projection.devices.get(id)!.state).toMatchObject({ value: 'ineligible', context: { baseline: 'B-2026-01' } });
    expect(o.projection.devices.get('p1')!.state.value).toBe('rolledBack');
  });

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

  it('restarts mid-rollout on SQLite without repeating or losing an instruction', async () => {
    const path = join(dir, 'restart.db');
    const clock = simulatedClock(RELEASED);
    const first = openSqliteEventStore({ path });
    await fleet(first, clock);
    const a = createOrchestrator({ store: first, clock, policy: { ...policy, maxInstructionsPerTick: 2 } });
    await a.planRollout(hotpatch);
    await a.tick(); // two of the three pilot devices
    await agentsRespond(a);
    await first.close();

    // A new instance on the same database: it rebuilds its view from the log and carries on.
    const second = openSqliteEventStore({ path });
    const b = createOrchestrator({ store: second, clock, policy });
    await finishAfterRestart(b, clock, second);
    // Every device got exactly one stage and one apply.
    for (const id of [...PILOT, ...BROAD]) {
      const types = (await second.readStream(`device/${id}`)).map((e) => e.type);
      expect(types.filter((t) => t === 'PatchStaged')).toHaveLength(1);
      expect(types.filter((t) => t === 'PatchApplyStarted')).toHaveLength(1);
    }
    await second.close();
  });

  it('restarts from its saved projection on SQLite: reads only the log after it, and decides as a full rebuild would', async () => {
    const path = join(dir, 'checkpoint.db');
    const clock = simulatedClock(RELEASED);
    const checkpoint = { name: 'orchestrator', every: 1 };
    const first = openSqliteEventStore({ path });
    await fleet(first, clock);
    const a = createOrchestrator({ store: first, clock, policy: { ...policy, maxInstructionsPerTick: 2 }, checkpoint });
    await a.planRollout(hotpatch);
    await a.tick();
    await agentsRespond(a);
    const saved = (await first.readProjection('orchestrator'))!;
    expect(saved.position).toBe(a.projection.position);
    await first.close();

    // The restarted instance: every read of the log it makes is counted.
    const second = openSqliteEventStore({ path });
    const reads: number[] = [];
    const counted: EventStore = { ...second, readAll: (o) => (reads.push(o?.fromPosition ?? 1), second.readAll(o)), batch: second.batch!.bind(second) };
    const b = createOrchestrator({ store: counted, clock, policy, checkpoint });
    await b.sync();
    expect(reads[0]).toBe(saved.position + 1);
    const rebuilt = new FleetProjection();
    for (const e of await second.readAll()) rebuilt.apply(e);
    expect(b.projection.serialize()).toEqual(rebuilt.serialize());
    // And it carries on from there, as the restart without a checkpoint does.
    await finishAfterRestart(b, clock, second);
    expect((await second.readProjection('orchestrator'))!.position).toBe(b.projection.position);
    // A projection saved by another format or machines is not trusted: the next instance reads the whole log.
    second.db.prepare(`UPDATE projections SET data = replace(data, '"machines":"', '"machines":"another build ')`).run();
    reads.length = 0;
    const c = createOrchestrator({ store: counted, clock, policy, checkpoint });
    await c.sync();
    expect(reads[0]).toBe(1);
    expect(c.projection.serialize()).toEqual(b.projection.serialize());
    await second.close();
  });

  const postgresUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
  if (!postgresUrl) console.warn('orchestrator on PostgreSQL skipped: HOTPATCH_TEST_POSTGRES_URL is not set');
  it.skipIf(!postgresUrl)('restarts mid-rollout on PostgreSQL, and two instances over one PostgreSQL log write each decision once', async () => {
    const { createPostgresEventStore } = await import('@hotpatch/store-postgres');
    const schema = `hotpatch_fleet_${process.pid}_${Date.now()}`;
    const clock = simulatedClock(RELEASED);
    const first = await createPostgresEventStore({ connectionString: postgresUrl!, schema });
    try {
      await fleet(first, clock);
      const checkpoint = { name: 'orchestrator', every: 1 };
      const a = createOrchestrator({ store: first, clock, policy: { ...policy, maxInstructionsPerTick: 2 }, checkpoint });
      await a.planRollout(hotpatch);
      await a.tick();
      await agentsRespond(a);
      expect((await first.readProjection('orchestrator'))!.position).toBe(a.projection.position);
      // Two new instances (sharing the saved projection) on their own pools: the restart, and a second one running alongside it.
      const stores = [await createPostgresEventStore({ connectionString: postgresUrl!, schema }), await createPostgresEventStore({ connectionString: postgresUrl!, schema })];
      const [b, c] = stores.map((store, i) => createOrchestrator({ store, clock, policy, meta: { instance: `pg-${i}` }, checkpoint }));
      await Promise.all([b!.planRollout(hotpatch), c!.planRollout(hotpatch)]);
      await Promise.all([b!.tick(), c!.tick()]);
      for (let i = 0; i < 3; i++) await agentsRespond(b!);
      clock.advance(25 * 3600);
      await Promise.all([b!.tick(), c!.tick()]);
      clock.jumpTo('2026-02-13T17:00:00.000Z');
      await Promise.all([b!.tick(), c!.tick()]);
      await c!.sync();
      for (let i = 0; i < 3; i++) await agentsRespond(c!);
      clock.advance(25 * 3600);
      await Promise.all([b!.tick(), c!.tick()]);
      await b!.sync();
      expect(b!.projection.rollouts.get('HP-2026-02')!.state.value).toBe('completed');
      // The furthest save is the log's end as b saw it, and it is what a full rebuild gives.
      const rebuilt = new FleetProjection();
      for (const e of await stores[0]!.readAll()) rebuilt.apply(e);
      expect(await b!.saveCheckpoint()).toBe(true);
      expect((await stores[0]!.readProjection('orchestrator'))!.parts).toEqual(rebuilt.serialize());
      const instructed = await instructionsIn(stores[0]!, 'rollout/HP-2026-02');
      expect(instructed.sort()).toEqual([...PILOT, ...BROAD].sort());
      for (const id of [...PILOT, ...BROAD]) {
        const types = (await stores[0]!.readStream(`device/${id}`)).map((e) => e.type);
        expect(types.filter((t) => t === 'PatchStaged')).toHaveLength(1);
      }
      for (const s of stores) await s.close();
    } finally {
      await first.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await first.close();
    }
  });

  it('two instances over one log cooperate: the same decisions are written once', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock);
    const a = createOrchestrator({ store, clock, policy, meta: { instance: 'a' } });
    const b = createOrchestrator({ store, clock, policy, meta: { instance: 'b' } });
    await Promise.all([a.planRollout(hotpatch), b.planRollout(hotpatch)]);
    await Promise.all([a.tick(), b.tick()]);
    expect((await instructionsIn(store, 'rollout/HP-2026-02')).sort()).toEqual([...PILOT].sort());
    for (const id of PILOT) expect((await store.readStream(`device/${id}`)).filter((e) => e.type === 'PatchStaged')).toHaveLength(1);
  });
});
