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
  /** Reads left before the lag ends (the other writer's commit is seen from then on). */
  let reads = Number.POSITIVE_INFINITY;
  const view = new Proxy(store, {
    get(target, key) {
      if (key === 'readAll')
        return async (options: Parameters<EventStore['readAll']>[0]) => {
          const events = await target.readAll(options);
          if (upTo === undefined || reads-- <= 0) return events;
          return events.filter((e) => e.position <= upTo!);
        };
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    view,
    lagBehind: (position: number, forReads = Number.POSITIVE_INFINITY) => {
      upTo = position;
      reads = forReads;
    },
    catchUp: () => (upTo = undefined),
  };
}

/** Two pilot devices, one instance lagging the log from after its plan, and another that instructed both. */
async function laggingInstance() {
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
  const planned = store.all.length;
  const b = createOrchestrator({ store, clock, policy });
  await b.tick();
  clock.advance(60);
  return { store, a, lag, planned };
}
const types = async (store: EventStore, stream: string) => (await store.readStream(stream)).map((e) => e.type);

describe('an orchestrator whose projection lags the log', () => {
  it('records a valid report the projection would refuse (another instance instructed the device), and a retry of it once', async () => {
    const { store, a, lag, planned } = await laggingInstance();
    lag.lagBehind(planned);
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

  it('decides again, on the log as now read, what follows from a report the lagging projection refused: the outcome in the rollout, a health report that overtook its apply', async () => {
    // An apply failure: recorded, and the device's failure in the rollout (read once the lag is over).
    const failed = await laggingInstance();
    failed.lag.lagBehind(failed.planned, 1);
    expect(await failed.a.report({ id: '0193f2a0-0000-7000-8000-00000000abc1', device: 'p1', kind: 'apply-failed', patch: 'HP-2026-02', reason: 'disk full' })).toMatchObject({ status: 'recorded' });
    expect(await types(failed.store, 'rollout/HP-2026-02')).toContain('DeviceFailed');
    // A health report ahead of its apply report: the lagging view saw no apply in flight; read again, it does.
    const overtaken = await laggingInstance();
    overtaken.lag.lagBehind(overtaken.planned, 1);
    expect(await overtaken.a.report({ id: '0193f2a0-0000-7000-8000-00000000abc2', device: 'p2', kind: 'health', patch: 'HP-2026-02', healthy: true })).toMatchObject({ status: 'recorded' });
    expect((await types(overtaken.store, 'device/p2')).slice(-2)).toEqual(['PatchApplied', 'PatchVerified']);
  });
});
