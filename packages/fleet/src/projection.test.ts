import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createEngine } from '@hotpatch/engine';
import { createInMemoryEventStore, type RecordedEvent } from '@hotpatch/store';
import { simulatedClock } from './clock.js';
import { createOrchestrator } from './orchestrator/shell.js';
import { at, given, HOTPATCH, POLICY, RELEASED, rollout } from './orchestrator/testing/given.js';
import { catchUpProjection, FleetProjection, pausedWithin, ProjectionOrderError } from './projection.js';
import { serializeProjection } from './projection/saved.js';
import { projectionSteps } from './projection/timeline.js';

describe('paused time', () => {
  // Minute by minute over a day: the time within [from, to] that any interval covers, overlaps counted once.
  const minute = 60_000;
  const at = (m: number) => new Date(Date.UTC(2026, 1, 10) + m * minute).toISOString();
  it('property: is the union of the pauses within the window, however they overlap, an open one running to its end', () => {
    const interval = fc.tuple(fc.integer({ min: 0, max: 1440 }), fc.option(fc.integer({ min: 0, max: 1440 }), { nil: null })).map(([a, len]) => [a, len === null ? null : a + len] as const);
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 6 }), fc.integer({ min: 0, max: 1440 }), fc.integer({ min: 0, max: 1440 }), (intervals, x, y) => {
        const [lo, hi] = [Math.min(x, y), Math.max(x, y)];
        let expected = 0;
        for (let m = lo; m < hi; m++) if (intervals.some(([a, b]) => m >= a && (b === null || m < b))) expected++;
        expect(pausedWithin(intervals.map(([a, b]) => [at(a), b === null ? null : at(b)] as const), at(lo), at(hi))).toBe(expected * minute);
      }),
      { numRuns: 500, seed: 20261126 },
    );
  });
});

describe('the rollouts that instructed a device', () => {
  it('are in the order of the rollouts, whichever instructed it first', () => {
    const older = rollout(HOTPATCH);
    const march = '2026-03-10T17:00:00.000Z';
    const newer = rollout({ ...HOTPATCH, id: 'HP-2026-03', releasedAt: march });
    const { view } = given(
      older.planned(),
      older.ringStarted('pilot', RELEASED, 2),
      at(march),
      newer.planned(),
      newer.ringStarted('pilot', march, 2),
      newer.instructed('pilot', 'd1'),
      older.instructed('pilot', 'd1'),
      older.instructed('pilot', 'd2'),
      newer.instructed('pilot', 'd2'),
    ).when(march);
    expect(view.rolloutsInstructing('d1')).toEqual(['HP-2026-02', 'HP-2026-03']);
    expect(view.rolloutsInstructing('d2')).toEqual(['HP-2026-02', 'HP-2026-03']);
    expect(view.rolloutsInstructing('d3')).toEqual([]);
  });
});

describe('an event taken in once', async () => {
  // A log: three pilot devices enrolled and assessed, the rollout planned and its first tick (stages, applies, instructions).
  const store = createInMemoryEventStore();
  const clock = simulatedClock(RELEASED);
  const engine = createEngine({ store, clock: () => clock.now() });
  for (const device of ['p1', 'p2', 'p3']) {
    await engine.execute({ type: 'EnrolDevice', device, profile: eligibleProfile, ring: 'pilot', baseline: HOTPATCH.baseline });
    await engine.execute({ type: 'AssessEligibility', device, latestBaseline: HOTPATCH.baseline });
  }
  const o = createOrchestrator({ store, clock, policy: { ...POLICY, rings: POLICY.rings.map((r) => ({ ...r, budget: { count: 3 } })) } });
  await o.planRollout(HOTPATCH);
  await o.tick();
  const log = await store.readAll();
  const folded = (events: readonly RecordedEvent[], into = new FleetProjection()) => {
    for (const e of events) into.apply(e);
    return into;
  };
  const whole = folded(log).serialize();

  it('skips what it applied: the log applied twice, or in pieces that overlap, is the log applied once', () => {
    expect(log.length).toBeGreaterThan(15);
    expect(folded(log, folded(log)).serialize()).toEqual(whole);
    for (let cut = 1; cut < log.length; cut += 3) {
      for (const back of [1, 4, cut]) expect(folded(log.slice(Math.max(0, cut - back)), folded(log.slice(0, cut))).serialize()).toEqual(whole);
    }
  });

  it('over a log that other tenants share, passes over their streams (tenant/<tenant>/…): the default tenant’s fleet alone', () => {
    // The same events again as a tenant's, between the default tenant's, a year later, one of them a healing's step.
    const shared: RecordedEvent[] = [];
    for (const e of log) {
      shared.push({ ...e, position: shared.length + 1 });
      const later = e.time.replace('2026', '2027');
      const meta = e.type === 'DeviceInstructed' ? { healed: { gap: 'applying-without-instruction', rollout: HOTPATCH.id } } : e.meta;
      shared.push({ ...e, stream: `tenant/acme/${e.stream}`, position: shared.length + 1, time: later, ...(meta ? { meta } : {}) });
    }
    const over = folded(shared);
    expect(over.position).toBe(shared.length);
    const alone = folded(log.map((e, i) => ({ ...e, position: 2 * i + 1 })));
    const withoutPosition = (p: FleetProjection) => p.serialize().join('').replace(/"position":\d+/, '');
    expect(withoutPosition(over)).toEqual(withoutPosition(alone));
    expect(over.latestTime).toBe(log.at(-1)!.time);
  });

  it('two catch-ups at once over one store give the projection of the log', async () => {
    const p = new FleetProjection();
    await Promise.all([catchUpProjection(p, store, 2), catchUpProjection(p, store, 3), catchUpProjection(p, store, 1_000)]);
    expect(p.position).toBe(log.at(-1)!.position);
    expect(p.serialize()).toEqual(whole);
  });

  it('steps over events it has as steps that change nothing', () => {
    const half = Math.floor(log.length / 2);
    const start = [...projectionSteps(log.slice(0, half))].at(-1)!.state;
    const steps = [...projectionSteps(log.slice(half - 3), { start })];
    expect(steps.slice(0, 3).map((s) => s.patches)).toEqual([[], [], []]);
    expect(serializeProjection(steps.at(-1)!.state)).toEqual(whole);
  });

  it('refuses an event below its position that it has not seen, naming it; positions that skip ahead are taken', () => {
    const p = folded(log.slice(0, 5));
    const late = log[5]!;
    const error = (() => {
      try {
        p.apply({ ...late, position: 3 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ProjectionOrderError);
    expect(error).toMatchObject({ code: 'PROJECTION_ORDER', stream: late.stream, version: late.version, position: 3, after: 5 });
    expect((error as Error).message).toBe(`${late.stream}@${late.version} at position 3 comes after position 5, and the projection has not seen it: the log's positions do not grow (hotpatch verify says where)`);
    expect(p.position).toBe(5);
    // A store promises commit order, not positions without gaps.
    const spaced = folded(log.map((e) => ({ ...e, position: e.position * 2 })));
    expect(spaced.position).toBe(log.at(-1)!.position * 2);
    expect(spaced.devices).toEqual(folded(log).devices);
  });
});
