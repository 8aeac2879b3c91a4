/**
 * Exposure against replay: at every position of a log, for every device and every release the log has named, the
 * fleet projection says a device is protected exactly when its replayed state carries the fix (or a newer one),
 * and dates its protection from when that began. The expectation is derived apart from the projection: from the
 * states replay's fold gives after each event, the releases named so far, and runs of protected positions.
 * Here rather than in fleet (whose projection it checks): it folds simulated fleets too, and fleet cannot depend on the simulator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deviceIdOf, deviceLifecycle, rolloutStream, type DeviceState, type HotpatchEvent } from '@hotpatch/core';
import { acceptedBodies } from '@hotpatch/core/testing';
import { TimelineFold, toDeviceView } from '@hotpatch/replay';
import { createInMemoryEventStore } from '@hotpatch/store';
import { DEFAULT_POLICY, FleetProjection, fleetStatus } from '@hotpatch/fleet';
import { simulate } from './index.js';

interface Plan {
  readonly releasedAt: string;
  readonly cumulativeUpdate?: string;
}

/**
 * Folds `log` event by event, through the projection and through replay, and compares them after each event.
 * Returns how many (device, release) pairs were compared, and how many of them were protected.
 */
function compareAtEveryPosition(log: readonly HotpatchEvent[]): { pairs: number; protectedPairs: number; regained: number } {
  // Every release the log names, with its date (the first plan of an id counts): a fact, whenever it is named.
  const dates = new Map<string, string>();
  for (const e of log) if (e.type === 'RolloutPlanned' && !dates.has(e.data.release)) dates.set(e.data.release, e.data.releasedAt);

  const projection = new FleetProjection();
  const fold = new TimelineFold();
  // What the log has named so far: releases by id, and the cumulative updates that bring one.
  const named = new Map<string, Plan>();
  const updates = new Map<string, string>();
  // Per device and release: when its current run of protected positions began (absent: not protected now).
  const runs = new Map<string, Map<string, string>>();
  let pairs = 0;
  let protectedPairs = 0;
  let regained = 0;
  const lost = new Set<string>();

  for (const event of log) {
    projection.apply(event);
    expect(fold.add(event)).toBe(true);
    if (event.type === 'RolloutPlanned' && !named.has(event.data.release)) {
      named.set(event.data.release, event.data.cumulativeUpdate === undefined ? { releasedAt: event.data.releasedAt } : { releasedAt: event.data.releasedAt, cumulativeUpdate: event.data.cumulativeUpdate });
      if (event.data.cumulativeUpdate !== undefined && !updates.has(event.data.cumulativeUpdate)) updates.set(event.data.cumulativeUpdate, event.data.release);
    }
    // The date of a fix a device runs, as the log has named it by now: a release, or a cumulative update's release.
    const dateOf = (fix: string): string | undefined => named.get(fix)?.releasedAt ?? (updates.has(fix) ? named.get(updates.get(fix)!)!.releasedAt : undefined);
    for (const s of fold.streams.values()) {
      const device = deviceIdOf(s.stream);
      if (device === undefined) continue;
      const view = toDeviceView(s);
      const fixes = [...(view.baseline === null ? [] : [view.baseline]), ...view.patches].map(dateOf).filter((d): d is string => d !== undefined);
      const newest = view.state === 'retired' || fixes.length === 0 ? null : fixes.reduce((a, b) => (a > b ? a : b));
      const run = runs.get(device) ?? new Map<string, string>();
      runs.set(device, run);
      for (const [release, releasedAt] of dates) {
        const key = `${device} ${release}`;
        if (newest !== null && newest >= releasedAt) {
          if (!run.has(release)) {
            run.set(release, event.time);
            if (lost.has(key)) regained++;
          }
        } else if (run.delete(release)) lost.add(key);
      }
      for (const release of named.keys()) {
        const record = projection.releases.get(release);
        expect(record, `release ${release} known at position ${event.position}`).toBeDefined();
        expect(record!.protectedSince.get(device), `${device} against ${release} after position ${event.position} (${event.type})`).toBe(run.get(release));
        pairs++;
        if (run.has(release)) protectedPairs++;
      }
    }
    expect(new Set(projection.releases.keys())).toEqual(new Set(named.keys()));
  }
  return { pairs, protectedPairs, regained };
}

/** Stamps events of one log with positions, versions per stream, ids and increasing times. */
function stamp(bodies: ReadonlyArray<{ readonly stream: string; readonly type: string; readonly data: object; readonly minutes: number }>): HotpatchEvent[] {
  const versions = new Map<string, number>();
  let time = Date.parse('2026-01-01T00:00:00.000Z');
  return bodies.map((b, i) => {
    time += b.minutes * 60_000;
    const version = (versions.get(b.stream) ?? 0) + 1;
    versions.set(b.stream, version);
    return { id: `0193f2a0-0000-7000-8000-${String(i + 1).padStart(12, '0')}`, stream: b.stream, version, type: b.type, time: new Date(time).toISOString(), data: b.data, position: i + 1 } as HotpatchEvent;
  });
}

/**
 * Logs of a few devices over a small alphabet (baselines B1, B2; hotpatches P1–P3), each step an event the device's
 * state accepts, with rollout plans naming releases at any moment — before, while or after devices run them, with
 * dates in any order, some hotpatches with a cumulative update — so that protection is gained, lost, regained, and
 * learnt late.
 */
const generatedLog: fc.Arbitrary<HotpatchEvent[]> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('device' as const), device: fc.nat({ max: 3 }), choice: fc.nat({ max: 999 }), minutes: fc.nat({ max: 3 * 24 * 60 }) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('plan' as const),
          release: fc.constantFrom('B1', 'B2', 'P1', 'P2', 'P3'),
          day: fc.integer({ min: -10, max: 60 }),
          cumulativeUpdate: fc.option(fc.constantFrom('B1', 'B2'), { nil: undefined }),
          minutes: fc.nat({ max: 3 * 24 * 60 }),
        }),
      },
    ),
    { minLength: 1, maxLength: 150, size: 'max' },
  )
  .map((steps) => {
    const states = new Map<number, DeviceState>();
    const planned = new Set<string>();
    const bodies: Array<{ stream: string; type: string; data: object; minutes: number }> = [];
    for (const step of steps) {
      if (step.kind === 'plan') {
        if (planned.has(step.release)) continue;
        planned.add(step.release);
        const hotpatch = step.release.startsWith('P');
        const releasedAt = new Date(Date.parse('2026-01-01T00:00:00.000Z') + step.day * 86_400_000).toISOString();
        bodies.push({
          stream: rolloutStream(`R-${step.release}`),
          type: 'RolloutPlanned',
          data: { release: step.release, releaseKind: hotpatch ? 'hotpatch' : 'baseline', releasedAt, liveRevert: true, outOfBand: false, rings: [], ...(hotpatch && step.cumulativeUpdate ? { cumulativeUpdate: step.cumulativeUpdate } : {}) },
          minutes: step.minutes,
        });
        continue;
      }
      const state = states.get(step.device) ?? (deviceLifecycle.initial as DeviceState);
      // Retiring ends a device's log: taken now and then, not as often as the choice would pick it.
      const accepted = acceptedBodies(state).filter((e) => e.type !== 'DeviceRetired' || step.choice % 20 === 0);
      // A type first, then one of its events: so that a state's many RebootRequired reasons do not crowd out the rest.
      const types = [...new Set(accepted.map((e) => e.type))];
      if (types.length === 0) continue;
      const ofType = accepted.filter((e) => e.type === types[step.choice % types.length]);
      const body = ofType[Math.floor(step.choice / types.length) % ofType.length]!;
      states.set(step.device, deviceLifecycle.step(state, body)!.state as DeviceState);
      bodies.push({ stream: `device/d${step.device}`, type: body.type, data: body.data, minutes: step.minutes });
    }
    return stamp(bodies);
  });

describe('exposure', () => {
  it('property: on generated logs, a device is protected against a release while, and only while, replay says it runs the fix or a newer one', () => {
    let regained = 0;
    let protectedPairs = 0;
    fc.assert(
      fc.property(generatedLog, (log) => {
        const r = compareAtEveryPosition(log);
        regained += r.regained;
        protectedPairs += r.protectedPairs;
      }),
      { seed: 20261201, numRuns: 100 },
    );
    // The logs did what the property is about: protection gained, lost and gained again.
    expect(protectedPairs).toBeGreaterThan(10_000);
    expect(regained).toBeGreaterThan(100);
  });

  it('property: on simulated fleets (rollbacks, halts, failed restarts, uninstalls), the projection agrees with replay at every position', async () => {
    let regained = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 4, max: 10 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(0.1, 0.3, 0.5), async (seed, devices, months, firstRingShare) => {
        const store = createInMemoryEventStore();
        await simulate({ devices, months, seed, policy: DEFAULT_POLICY, store, arm: 'hotpatch', firstRingShare });
        const r = compareAtEveryPosition(await store.readAll());
        regained += r.regained;
      }),
      { seed: 20261201, numRuns: 12 },
    );
    expect(regained).toBeGreaterThan(0);
  });

  it('status counts a device that lost the fix as exposed, and dates its protection from when it got it back', () => {
    // A device protected by a hotpatch, which fails its health check and restarts back to the baseline; a second
    // device protected from the start; a third that gets the fix, loses it, and gets it again later.
    const enrol = (d: string) => ({ stream: `device/${d}`, type: 'DeviceEnrolled', data: { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B1' }, minutes: 0 });
    const on = (d: string, type: string, data: object, minutes = 0) => ({ stream: `device/${d}`, type, data, minutes });
    const apply = (d: string, patch: string) => [
      on(d, 'PatchStaged', { patch, baseline: 'B1', requires: [], liveRevert: false }),
      on(d, 'PatchApplyStarted', { patch }),
      on(d, 'PatchApplied', { patch }, 10),
    ];
    const log = stamp([
      ...['a', 'b', 'c'].flatMap((d) => [enrol(d), on(d, 'EligibilityAssessed', { eligible: true, reasons: [] })]),
      { stream: rolloutStream('P1'), type: 'RolloutPlanned', data: { release: 'P1', releaseKind: 'hotpatch', releasedAt: '2026-01-01T00:00:00.000Z', liveRevert: false, outOfBand: false, rings: [] }, minutes: 0 },
      ...apply('a', 'P1'),
      ...apply('b', 'P1'),
      on('b', 'PatchVerified', { patch: 'P1' }),
      ...apply('c', 'P1'),
      // a: unwell, and not revertible live: a restart back to B1 takes the fix off, for good.
      ...['a', 'c'].flatMap((d) => [
        on(d, 'HealthCheckFailed', { patch: 'P1', signal: 'crash' }, 60),
        on(d, 'RebootRequired', { reason: 'not-live-revertible' }),
        on(d, 'BaselineInstalled', { baseline: 'B1' }, 60),
      ]),
      // c: given it again two days later, and well on it this time.
      ...apply('c', 'P1').map((s, i) => (i === 0 ? { ...s, minutes: 2 * 24 * 60 } : s)),
      on('c', 'PatchVerified', { patch: 'P1' }),
    ]);
    compareAtEveryPosition(log);
    const projection = new FleetProjection();
    for (const e of log) projection.apply(e);
    const [exposure] = fleetStatus(projection, log.at(-1)!.time).exposure;
    const days = (e: HotpatchEvent) => (Date.parse(e.time) - Date.parse('2026-01-01T00:00:00.000Z')) / 86_400_000;
    const bApplied = log.find((e) => e.stream === 'device/b' && e.type === 'PatchApplied')!;
    const cAgain = log.filter((e) => e.stream === 'device/c' && e.type === 'PatchApplied')[1]!;
    expect(exposure).toMatchObject({ release: 'P1', protectedDevices: 2, stillExposed: 1, worstDays: days(cAgain) });
    expect(exposure!.medianDays).toBe(days(bApplied));
  });
});
