/** A projection that has not read another writer's last events yet: the engine's fresh read decides, not the projection. */
import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { createEngine } from '@hotpatch/engine';
import { createOrchestrator, FleetProjection, simulatedClock, type FleetPolicy, type ReleaseToRoll } from '../index.js';

const RELEASED = '2026-02-10T17:00:00.000Z';
const hotpatch: ReleaseToRoll = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: RELEASED, baseline: 'B-2026-01', liveRevert: true };
const policy: FleetPolicy = {
  rings: [{ name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 24 }, deadlineDays: 5 }],
  applyTimeoutMinutes: 60,
  silenceHours: 48,
};

/** The store as an instance reads it when another writer's events land just after its read: the log up to `upTo`. */
function lagging(store: EventStore) {
  let upTo: number | undefined;
  const view = new Proxy(store, {
    get(target, key) {
      if (key === 'readAll') return async (options: Parameters<EventStore['readAll']>[0]) => (await target.readAll(options)).filter((e) => upTo === undefined || e.position <= upTo);
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { view, lagBehind: (position: number) => (upTo = position), catchUp: () => (upTo = undefined) };
}

describe('an orchestrator whose projection lags the log', () => {
  it('records a valid report the projection would refuse (another instance instructed the device), and a retry of it once', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    const engine = createEngine({ store, clock: () => clock.now() });
    for (const device of ['p1', 'p2']) {
      await engine.execute({ type: 'EnrolDevice', device, profile: eligibleProfile, ring: 'pilot', baseline: 'B-2026-01' });
      await engine.execute({ type: 'AssessEligibility', device, latestBaseline: 'B-2026-01' });
    }
    const lag = lagging(store);
    const a = createOrchestrator({ store: lag.view, clock, policy });
    await a.planRollout(hotpatch);
    lag.lagBehind(store.all.length);
    // Another instance instructs the pilot ring; the first has not read it when p1's agent reports to it.
    const b = createOrchestrator({ store, clock, policy });
    expect(await b.tick()).toMatchObject({ instructed: 2 });
    clock.advance(60);
    const report = { id: '0193f2a0-0000-7000-8000-00000000abcd', device: 'p1', kind: 'applied' as const, patch: 'HP-2026-02' };
    expect(await a.report(report)).toMatchObject({ status: 'recorded' });
    expect((await store.readStream('device/p1')).map((e) => e.type).slice(-3)).toEqual(['PatchStaged', 'PatchApplyStarted', 'PatchApplied']);
    expect(await a.report(report)).toMatchObject({ status: 'duplicate' });
    lag.catchUp();
    await a.sync();
    const fresh = new FleetProjection();
    for (const e of await store.readAll()) fresh.apply(e);
    expect(a.projection.devices.get('p1')!.state).toEqual(fresh.devices.get('p1')!.state);
    expect(fresh.devices.get('p1')!.state.value).toBe('applied');
  });
});
