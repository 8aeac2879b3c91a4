import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '@hotpatch/store';
import { timeOfId } from '@hotpatch/engine';
import { complianceOf, createOrchestrator, FleetProjection, simulatedClock, type ReleaseToRoll } from './index.js';
import { agentsRespond, BROAD, finishRollout, fleet, hotpatch, instructionsIn, PILOT, pilotInstructed, policy, RELEASED, reportId } from './orchestrator/testing/rollout-fixture.js';

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
});
