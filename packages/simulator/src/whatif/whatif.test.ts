import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom, type HotpatchEvent } from '@hotpatch/core';
import { createInMemoryEventStore, readLog } from '@hotpatch/store';
import { timeOfId } from '@hotpatch/engine';
import { DEFAULT_POLICY, type FleetPolicy } from '@hotpatch/fleet';
import { failureShare, failureShareInterval, simulate, simulationCatalog, whatIf, type RolloutOutcome, type WhatIfResult } from '../index.js';

// One recorded log for every test: a simulated fleet whose out-of-band hotpatch (the bad one) halts in the pilot ring.
const recordedStore = createInMemoryEventStore();
const simulation = await simulate({ devices: 300, months: 3, seed: 5, policy: DEFAULT_POLICY, store: recordedStore, arm: 'hotpatch' });
const recorded: readonly HotpatchEvent[] = recordedStore.all;
const BAD = 'OOB-2026-02';

const withPilotBudget = (budget: FleetPolicy['rings'][number]['budget']): FleetPolicy => ({ ...DEFAULT_POLICY, rings: DEFAULT_POLICY.rings.map((r, i) => (i === 0 ? { ...r, budget } : r)) });
const rollout = (side: WhatIfResult['recorded'], id: string): RolloutOutcome => side.rollouts.find((r) => r.rollout === id)!;

describe('what-if: a recorded log under another policy', () => {
  it('the recorded policy again: the same halt, for the same reason, near the same time, answered as recorded', async () => {
    expect(simulation.figures.haltedRollouts).toEqual([BAD]);
    const store = createInMemoryEventStore();
    const result = await whatIf({ recorded, policy: DEFAULT_POLICY, store });
    expect(result.devices).toBe(300);
    expect(result.recordedRings).toEqual(DEFAULT_POLICY.rings);
    expect(result.releasesSkipped).toEqual([]);
    const [before, after] = [rollout(result.recorded, BAD), rollout(result.whatIf, BAD)];
    expect(after.state).toBe('halted');
    expect(after.haltReason).toBe(before.haltReason);
    expect(after.instructed).toBe(before.instructed);
    expect(Math.abs(Date.parse(after.haltedAt!) - Date.parse(before.haltedAt!))).toBeLessThan(6 * 3_600_000);
    expect(result.whatIf.figures.haltedRollouts).toEqual(result.recorded.figures.haltedRollouts);
    // Every release reached the same devices: the same rollouts, each instructing as many.
    expect(result.whatIf.rollouts.map((r) => [r.rollout, r.state, r.instructed])).toEqual(result.recorded.rollouts.map((r) => [r.rollout, r.state, r.instructed]));
    // Nearly every answer is the device's own recorded one (late and repeated reports move a few steps).
    const { recorded: own, fromOtherDevices, ordinary } = result.answers;
    expect(own / (own + fromOtherDevices + ordinary)).toBeGreaterThan(0.95);
    expect(Math.abs(result.whatIf.figures.reboots - result.recorded.figures.reboots)).toBeLessThanOrEqual(0.02 * result.recorded.figures.reboots);
    // The what-if log is written where asked, and the recorded one is not touched.
    const all = await store.readAll();
    expect(all.length).toBe(result.whatIf.figures.events);
    // Each rollout planned as recorded: the out-of-band one expedited from its Patch Tuesday, as in the log.
    const plans = (events: readonly HotpatchEvent[]) => events.filter((e) => e.type === 'RolloutPlanned').map((e) => e.data);
    expect(plans(all)).toEqual(plans(recorded));
    expect(plans(all).find((p) => p.release === BAD)).toMatchObject({ deferralsFrom: '2026-02-10T17:00:00.000Z' });
    expect(recordedStore.all.length).toBe(recorded.length);
  });

  it('a tighter pilot budget halts the bad release sooner, its failures within the budget and what was in flight; a looser one lets it reach the broad ring', async () => {
    const tightStore = createInMemoryEventStore();
    const tight = await whatIf({ recorded, policy: withPilotBudget({ count: 0 }), store: tightStore });
    const before = rollout(tight.recorded, BAD);
    const strict = rollout(tight.whatIf, BAD);
    expect(strict.state).toBe('halted');
    expect(strict.haltReason).toMatch(/pilot: failures past the disruption budget \(1 > 0\)/);
    // Halted at the first failure, before the recorded halt; nothing instructed after it. What was in flight then
    // may still fail, and no more: failures stay within the budget (0) + 1 + the devices in flight at the halt.
    // (Fewer failures than recorded is not promised: devices in flight at the halt may be more, restarting onto
    // its cumulative update, say.)
    expect(Date.parse(strict.haltedAt!)).toBeLessThan(Date.parse(before.haltedAt!));
    expect(strict.instructed).toBeLessThanOrEqual(before.instructed);
    // With a budget of 0 the first failure halts the rollout (the machine halts on it: "1 > 0").
    const events = await tightStore.readStream(`rollout/${BAD}`);
    const halt = events.findIndex((e) => e.type === 'DeviceFailed');
    const beforeHalt = events.slice(0, halt);
    expect(events.slice(halt + 1).some((e) => e.type === 'DeviceInstructed')).toBe(false);
    const inFlightAtHalt = beforeHalt.filter((e) => e.type === 'DeviceInstructed').length - beforeHalt.filter((e) => e.type === 'DeviceSucceeded' || e.type === 'DeviceFailed' || e.type === 'DeviceSetAside').length;
    expect(strict.failed).toBeLessThanOrEqual(1 + inFlightAtHalt);
    expect(strict.failed).toBeGreaterThan(1); // here, in flight at the halt, some did fail

    // A pilot ring that tolerates what the bad release did there: it reaches the broad ring, which the recorded
    // rollout never instructed, so the broad devices' answers come from what it did on the pilot's devices.
    const lenient: FleetPolicy = { ...DEFAULT_POLICY, rings: DEFAULT_POLICY.rings.map((r, i) => (i === 0 ? { ...r, budget: { percent: 60 }, gate: { ...r.gate, minVerifiedShare: 0.5, maxFailureRate: 0.6 } } : r)) };
    const loose = await whatIf({ recorded, policy: lenient });
    const lax = rollout(loose.whatIf, BAD);
    expect(lax.rings[0]).toMatchObject({ name: 'pilot', gatePassed: true });
    expect(lax.rings[1]!.started).not.toBeNull();
    expect(lax.rings[1]!.failed).toBeGreaterThan(0);
    expect(lax.instructed).toBeGreaterThan(before.instructed);
    expect(lax.haltReason).toMatch(/^broad: failures past the disruption budget/);
    // By default the broad devices' health is drawn with the bad release's estimated failure share: the log holds
    // its pilot verdicts, and a pilot device it stopped watching (rolled back at the halt) before its verdict.
    expect(loose.unrecorded).toBe('estimate');
    expect(loose.answers.estimated).toBeGreaterThan(0);
    expect(loose.answers.fromOtherDevices).toBeGreaterThan(0);
    expect(loose.estimates).toHaveLength(1);
    const [estimate] = loose.estimates;
    expect(estimate).toMatchObject({ release: BAD, failed: 2, verdicts: 9, censored: 4 });
    // Its pilot verdicts: a failure at once, seven healthy within 2 h, a failure at 3 h; four devices stopped being
    // watched at about 2.9 h (rolled back at the halt), still at risk until then. So the late failure came when it
    // alone was at risk: it weighs 5/13, the first 1/13, 6/13 in all. A plain share of the verdicts would say 2 of
    // 9, one counting the unwatched as healthy 2 of 13; both forget that those four never reached the 3 h mark.
    expect(estimate!.failureShare).toBeCloseTo(6 / 13, 12);
    expect(estimate!.interval[0]).toBeLessThanOrEqual(estimate!.failureShare);
    expect(estimate!.interval[1]).toBeGreaterThanOrEqual(estimate!.failureShare);
    // Nine verdicts say little: the interval is wide.
    expect(estimate!.interval[1] - estimate!.interval[0]).toBeGreaterThan(0.5);
    // The pessimistic bound: every unseen step as the release did on another device, failures as often as seen.
    const pessimistic = await whatIf({ recorded, policy: lenient, unrecorded: 'other-devices' });
    expect(pessimistic.answers).toMatchObject({ estimated: 0 });
    expect(pessimistic.answers.fromOtherDevices).toBeGreaterThan(loose.answers.fromOtherDevices);
    expect(pessimistic.estimates).toEqual([]);
    expect(rollout(pessimistic.whatIf, BAD).haltReason).toMatch(/^broad: failures past the disruption budget/);
    // The optimistic bound: every step the log never shows went well.
    const optimistic = await whatIf({ recorded, policy: lenient, unrecorded: 'ordinary' });
    expect(optimistic.unrecorded).toBe('ordinary');
    expect(optimistic.answers.fromOtherDevices).toBe(0);
    expect(optimistic.answers.ordinary).toBeGreaterThan(0);
    expect(rollout(optimistic.whatIf, BAD).failed).toBeLessThanOrEqual(lax.failed);
    const untouched = createInMemoryEventStore();
    await expect(whatIf({ recorded, policy: lenient, store: untouched, unrecorded: 'sometimes' as never })).rejects.toThrow(/unrecorded: 'estimate', 'other-devices', 'ordinary'; not "sometimes"/);
    expect(untouched.all).toHaveLength(0);
  });

  it('reads a simulated log whose ids are led by the simulated time they were decided at', () => {
    // Name-based (so a seed writes the same log) and time-led (so they lie together in a store's id index): no
    // event of the simulation has a random or wall-clock id, and none is led by a time after its own.
    const times = recorded.map((e) => [timeOfId(e.id), Date.parse(e.time)] as const);
    expect(recorded.every((e) => e.id[14] === '8')).toBe(true);
    expect(times.filter(([t, at]) => t === undefined || t > at)).toEqual([]);
  });

  it('is deterministic for a seed', async () => {
    const policy = withPilotBudget({ percent: 60 });
    const a = createInMemoryEventStore();
    const b = createInMemoryEventStore();
    await whatIf({ recorded, policy, store: a, seed: 9 });
    await whatIf({ recorded, policy, store: b, seed: 9 });
    expect(b.all).toEqual(a.all);
    // The log read from its store page by page (twice: a function reads it from the start each time): the same.
    const c = createInMemoryEventStore();
    let reads = 0;
    const fromStore = await whatIf({ recorded: () => (reads++, readLog(recordedStore)), policy, store: c, seed: 9 });
    expect(reads).toBe(2);
    expect(c.all).toEqual(a.all);
    expect(fromStore).toEqual(await whatIf({ recorded, policy, seed: 9 }));
  });

  it('plans the releases of an older log, whose rollout plans name no baseline, from the devices they were staged on', async () => {
    const older = recorded.map((e) => {
      if (e.type !== 'RolloutPlanned') return e;
      const { baseline: _b, requires: _r, rebootReason: _w, ...data } = e.data;
      return { ...e, data } as HotpatchEvent;
    });
    const result = await whatIf({ recorded: older, policy: DEFAULT_POLICY });
    expect(result.releasesSkipped).toEqual([]);
    expect(result.whatIf.rollouts.map((r) => r.rollout)).toEqual(result.recorded.rollouts.map((r) => r.rollout));
    // Without the staging events either (only the enrolments and the rollouts kept), a hotpatch cannot be planned
    // again: skipped, and said why; the baselines still are.
    const bare = await whatIf({ recorded: older.filter((e) => e.stream.startsWith('rollout/') || e.version <= 2), policy: DEFAULT_POLICY });
    expect(bare.releasesSkipped).toContainEqual({ release: BAD, reason: 'the log names neither the baseline it applies on nor a device it was staged on' });
    expect(bare.whatIf.rollouts.map((r) => r.rollout)).toEqual(result.recorded.rollouts.filter((r) => !bare.releasesSkipped.some((x) => x.release === r.rollout)).map((r) => r.rollout));
  });

  it('gives the devices that cannot take a hotpatch the cumulative update the log names', async () => {
    // The same log, with each hotpatch's cumulative update named as a vendor would (KB numbers) instead of LCU-….
    const rename = (name: unknown) => (typeof name === 'string' && name.startsWith('LCU-') ? `KB-${name.slice(4)}` : name);
    const renamed = recorded.map((e) => {
      if (e.type === 'RolloutPlanned' && e.data.cumulativeUpdate !== undefined) return { ...e, data: { ...e.data, cumulativeUpdate: rename(e.data.cumulativeUpdate) } } as HotpatchEvent;
      if (e.type === 'RebootRequired' || e.type === 'BaselineInstalled') return { ...e, data: { ...e.data, baseline: rename(e.data.baseline) } } as HotpatchEvent;
      return e;
    });
    expect(renamed.some((e) => e.type === 'BaselineInstalled' && String(e.data.baseline).startsWith('KB-'))).toBe(true);
    const store = createInMemoryEventStore();
    const result = await whatIf({ recorded: renamed, policy: DEFAULT_POLICY, store });
    const installed = new Set((await store.readAll()).filter((e) => e.type === 'BaselineInstalled').map((e) => String((e.data as { baseline: string }).baseline)));
    expect([...installed].filter((b) => b.startsWith('KB-')).length).toBeGreaterThan(0);
    expect([...installed].filter((b) => b.startsWith('LCU-'))).toEqual([]);
    // Protected by them as by the LCU-… of the log it was renamed from.
    expect(result.whatIf.figures.stillExposed).toBe((await whatIf({ recorded, policy: DEFAULT_POLICY })).whatIf.figures.stillExposed);
  });

  it('does the recorded pauses and resumes again at their times, and lists those the what-if’s rollout cannot take', async () => {
    const released = Date.parse(simulationCatalog('2026-01', 3).releases.find((r) => r.id === 'HP-2026-03')!.released);
    const HOUR = 3_600_000;
    const paused = createInMemoryEventStore();
    await simulate({
      devices: 300,
      months: 3,
      seed: 5,
      policy: DEFAULT_POLICY,
      store: paused,
      arm: 'hotpatch',
      interventions: [
        { at: released + 30 * HOUR, run: (o) => o.pause('HP-2026-03', 'tenant', 'change freeze') },
        { at: released + 78 * HOUR, run: (o) => o.resume('HP-2026-03', 'tenant') },
      ],
    });
    const pauseEvents = (events: readonly HotpatchEvent[]) => events.filter((e) => e.type === 'RolloutPaused' || e.type === 'RolloutResumed').map((e) => [e.stream, e.type, e.time, e.data]);
    expect(pauseEvents(paused.all)).toHaveLength(2);
    // The same policy: the same pause and resume, at the same times, by the same party.
    const again = createInMemoryEventStore();
    const same = await whatIf({ recorded: paused.all, policy: DEFAULT_POLICY, store: again });
    expect(same.interventions).toEqual({ replayed: 2, notApplied: [] });
    expect(pauseEvents(again.all)).toEqual(pauseEvents(paused.all));
    // A policy that finishes the rollout within a day: there is nothing left to pause.
    const quick: FleetPolicy = {
      ...DEFAULT_POLICY,
      rings: DEFAULT_POLICY.rings.map((r) => ({ ...r, deferralDays: 0, budget: { percent: 50 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 1 } })),
      silenceHours: 6,
    };
    const fast = await whatIf({ recorded: paused.all, policy: quick });
    expect(rollout(fast.whatIf, 'HP-2026-03').state).toBe('completed');
    expect(fast.interventions.replayed).toBe(0);
    expect(fast.interventions.notApplied).toEqual([
      { rollout: 'HP-2026-03', type: 'RolloutPaused', by: 'tenant', at: new Date(released + 30 * HOUR).toISOString(), why: 'the rollout was completed' },
      { rollout: 'HP-2026-03', type: 'RolloutResumed', by: 'tenant', at: new Date(released + 78 * HOUR).toISOString(), why: 'the rollout was completed' },
    ]);
  });

  it('does a ring’s recorded pause and resume again at their times: nothing reaches the ring meanwhile', async () => {
    const frozen = createInMemoryEventStore();
    const [from, to] = [Date.parse('2026-02-11T09:00:00.000Z'), Date.parse('2026-02-25T09:00:00.000Z')];
    await simulate({
      devices: 60,
      months: 2,
      seed: 5,
      policy: DEFAULT_POLICY,
      store: frozen,
      arm: 'hotpatch',
      interventions: [
        { at: from, run: (o) => o.pauseRing('broad', 'tenant', 'change freeze') },
        { at: to, run: (o) => o.resumeRing('broad', 'tenant') },
      ],
    });
    const ringEvents = (events: readonly HotpatchEvent[]) => events.filter((e) => e.stream.startsWith('ring/')).map((e) => [e.stream, e.type, e.time, e.data]);
    expect(ringEvents(frozen.all)).toHaveLength(2);
    const again = createInMemoryEventStore();
    const same = await whatIf({ recorded: frozen.all, policy: DEFAULT_POLICY, store: again });
    expect(same.interventions).toEqual({ replayed: 2, notApplied: [] });
    expect(ringEvents(again.all)).toEqual(ringEvents(frozen.all));
    // Nothing reached the broad ring while it was frozen, in the log and in the what-if alike.
    for (const log of [frozen.all, again.all]) {
      const instructedBroad = log.filter((e) => e.type === 'DeviceInstructed' && e.data.ring === 'broad').map((e) => Date.parse(e.time));
      expect(instructedBroad.length).toBeGreaterThan(0);
      expect(instructedBroad.filter((t) => t >= from && t < to)).toEqual([]);
    }
  });

  it('has a device join the fleet and leave it at the times the log says, not before, not after', async () => {
    // The recorded log with one more device: enrolled in the broad ring on 20 February, retired on 11 March,
    // before the broad ring's turn of March's hotpatch (released on the 10th, deferred 3 days).
    const joined = '2026-02-20T00:00:00.000Z';
    const left = '2026-03-11T00:00:00.000Z';
    const model = recorded.find((e) => e.type === 'DeviceEnrolled' && e.data.ring === 'broad')!;
    const assessed = recorded.find((e) => e.stream === model.stream && e.type === 'EligibilityAssessed')!;
    const stream = 'device/sim-late-joiner';
    const extra = (into: readonly HotpatchEvent[], after: string, events: HotpatchEvent[]) => {
      const at = into.findIndex((e) => e.time > after);
      return [...into.slice(0, at), ...events, ...into.slice(at)];
    };
    const base = { stream, meta: model.meta } as const;
    let log = extra(recorded, joined, [
      { ...model, ...base, id: '0194a000-0000-7000-8000-00000000a001', version: 1, time: joined, position: undefined } as HotpatchEvent,
      { ...assessed, ...base, id: '0194a000-0000-7000-8000-00000000a002', version: 2, time: joined, position: undefined } as HotpatchEvent,
    ]);
    log = extra(log, left, [{ id: '0194a000-0000-7000-8000-00000000a003', stream, version: 3, type: 'DeviceRetired', time: left, data: {} } as HotpatchEvent]);
    const store = createInMemoryEventStore();
    const result = await whatIf({ recorded: log, policy: DEFAULT_POLICY, store });
    expect(result.devices).toBe(301);
    expect(result.fleetChanges).toEqual({ enrolledLater: 1, retired: 1 });
    const own = store.all.filter((e) => e.stream === stream);
    expect(own.map((e) => e.type).slice(0, 2)).toEqual(['DeviceEnrolled', 'EligibilityAssessed']);
    expect(own.every((e) => e.time >= joined && e.time <= left)).toBe(true);
    expect(own.at(-1)).toMatchObject({ type: 'DeviceRetired', time: left });
    // Present from the start, it would have been sent January's baseline and February's and March's hotpatches
    // by their rollouts. It joined on last quarter's baseline after January's and February's rollouts had passed
    // the broad ring, so it was caught up with both on joining (outside the rollouts), and it left before March's
    // reached the broad ring.
    expect(own.map((e) => [e.type, (e.data as { patch?: string }).patch ?? (e.data as { baseline?: string }).baseline]).slice(2, 5)).toEqual([
      ['RebootRequired', 'B-2026-01'],
      ['BaselineInstalled', 'B-2026-01'],
      ['PatchStaged', 'HP-2026-02'],
    ]);
    const instructed = store.all.filter((e) => e.type === 'DeviceInstructed' && e.data.device === 'sim-late-joiner');
    expect(instructed).toEqual([]);
    // The recorded side of the comparison is the log as given.
    expect(result.recorded.figures.events).toBe(log.length);
  });

  it('refuses a store that holds events, and a log without devices', async () => {
    const used = createInMemoryEventStore();
    await used.appendToStream('device/x', [recorded[0]!].map((e) => ({ type: e.type, time: e.time, data: e.data })));
    await expect(whatIf({ recorded, policy: DEFAULT_POLICY, store: used })).rejects.toThrow(/the what-if store must be empty/);
    await expect(whatIf({ recorded: recorded.filter((e) => e.stream.startsWith('rollout/')), policy: DEFAULT_POLICY })).rejects.toThrow(/holds no device/);
  });
});

describe('failureShare: a release’s failure share from verdicts and devices unwatched before theirs', () => {
  const F = (after: number) => ({ healthy: false, after });
  const H = (after: number) => ({ healthy: true, after });
  it('is the plain share of the verdicts when every device gave one', () => {
    expect(failureShare([F(1), H(2), H(3), F(4)], [])).toBe(0.5);
    expect(failureShare([H(1), H(2)], [])).toBe(0);
    expect(failureShare([], [])).toBe(0);
  });
  it('counts a device unwatched after every verdict as not failed', () => {
    // 4 devices: one failed, one healthy, two still soaking past both verdicts.
    expect(failureShare([F(1), H(2)], [10, 10])).toBe(0.25);
  });
  it('takes a device unwatched before any verdict out of the devices at risk (it says nothing of later failures)', () => {
    expect(failureShare([F(1), H(2)], [0.5, 0.5])).toBe(0.5);
    // Healthy early among 18, then 15 unwatched, then the last two both fail: 17/18 of the mass fails.
    expect(failureShare([H(1), F(5), F(6)], Array.from({ length: 15 }, () => 2))).toBeCloseTo(17 / 18, 12);
  });
  it('keeps a device unwatched at the time of a verdict at risk for that verdict', () => {
    expect(failureShare([F(1), H(2)], [1])).toBeCloseTo(1 / 3, 12);
  });
  it('comes with a bootstrap interval: deterministic, narrow with many devices, wide with few', () => {
    const many = [...Array.from({ length: 100 }, (_, i) => F(i)), ...Array.from({ length: 100 }, (_, i) => H(i))];
    const [low, high] = failureShareInterval(many, [], seededRandom(3));
    expect(low).toBeGreaterThan(0.38);
    expect(high).toBeLessThan(0.62);
    expect(low).toBeLessThan(0.5);
    expect(high).toBeGreaterThan(0.5);
    expect(failureShareInterval(many, [], seededRandom(3))).toEqual([low, high]);
    // The demo's case: a healthy verdict early, 15 unwatched, two failures late.
    const [fewLow, fewHigh] = failureShareInterval([H(1), F(5), F(6)], Array.from({ length: 15 }, () => 2), seededRandom(3));
    expect(fewHigh - fewLow).toBeGreaterThan(0.5);
    expect(failureShareInterval([F(1), F(2)], [], seededRandom(1))).toEqual([1, 1]);
    expect(failureShareInterval([H(1)], [3], seededRandom(1))).toEqual([0, 0]);
    expect(failureShareInterval([], [], seededRandom(1))).toEqual([0, 0]);
  });
  it('whatever the data, is a share', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ healthy: fc.boolean(), after: fc.integer({ min: 0, max: 20 }) }), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 30 }), (verdicts, censored) => {
        const share = failureShare(verdicts, censored);
        const failed = verdicts.filter((v) => !v.healthy).length;
        expect(share).toBeGreaterThanOrEqual(0);
        expect(share).toBeLessThanOrEqual(1 + 1e-12);
        // At least the share of all devices that failed, and at most 1 - the share that were healthy.
        const n = verdicts.length + censored.length;
        if (n > 0) {
          expect(share).toBeGreaterThanOrEqual(failed / n - 1e-12);
          expect(share).toBeLessThanOrEqual(1 - (verdicts.length - failed) / n + 1e-12);
        }
        // Without unwatched devices it is the plain share.
        if (censored.length === 0 && verdicts.length > 0) expect(share).toBeCloseTo(failed / verdicts.length, 12);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
