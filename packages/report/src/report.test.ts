/**
 * The report's data against the commands' own answers, on a simulated fleet (no browser: the browser tests in
 * packages/cli check the page draws them): each device's band looked up at a time is replay's fold at that time;
 * the rollout's rings are status's; the lifecycle diagram has every transition of the machine.
 */
import { deviceLifecycle, DEVICE_STATES, type HotpatchEvent } from '@hotpatch/core';
import { DEFAULT_POLICY, fleetStatus, FleetProjection } from '@hotpatch/fleet';
import { deviceHistory, fleetAt, rolloutChanges, rolloutHistory } from '@hotpatch/replay';
import { simulate, whatIf } from '@hotpatch/simulator';
import { createInMemoryEventStore, readLog } from '@hotpatch/store';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { lifecycleDiagram } from './lifecycle-diagram.js';
import type { ReportData } from './model.js';
import { stateAt } from './page/time.js';
import { buildReportData, reportCollector, reportDataOf, type ReportSubject } from './report.js';

let events: HotpatchEvent[] = [];
const read = async (add: (e: HotpatchEvent) => void) => events.forEach(add);

beforeAll(async () => {
  const store = createInMemoryEventStore();
  await simulate({ devices: 60, months: 3, seed: 7, policy: DEFAULT_POLICY, store, arm: 'hotpatch' });
  for await (const e of readLog(store)) events.push(e);
});

const stateOf = (data: ReportData, steps: readonly number[], iso: string) => {
  const s = stateAt(steps, Date.parse(iso) - Date.parse(data.base));
  return s < 0 ? undefined : data.states[s];
};

describe('a report’s data', () => {
  it('gives at any time of its window the states replay gives then (seeded)', async () => {
    const data = await buildReportData({ subject: { kind: 'fleet' }, source: 'sim', read });
    const [from, to] = data.window;
    const base = Date.parse(data.base);
    fc.assert(
      fc.property(fc.integer({ min: from, max: to }), (t) => {
        const iso = new Date(base + t).toISOString();
        const replayed = new Map(fleetAt({ events }, { kind: 'time', time: iso }).map((d) => [d.device, d.state]));
        for (const lane of data.fleet) for (const d of lane.devices) expect([d.id, stateOf(data, d.steps, iso)]).toEqual([d.id, replayed.get(d.id)]);
      }),
      { seed: 23, numRuns: 25 },
    );
  });

  it('gives a rollout’s rings as status does, and its device’s history as history does', async () => {
    const projection = new FleetProjection();
    events.forEach((e) => projection.apply(e));
    const status = fleetStatus(projection, projection.latestTime);
    // The rollout with the most failures (a halted one, on this fleet).
    const failedIn = (r: (typeof status.rollouts)[number]) => r.rings.reduce((n, g) => n + g.failed, 0);
    const rollout = [...status.rollouts].sort((a, b) => failedIn(b) - failedIn(a))[0]!;
    expect(failedIn(rollout)).toBeGreaterThan(0);
    const data = await buildReportData({ subject: { kind: 'rollout', id: rollout.rollout }, source: 'sim', read });
    expect(data.rollout!.progress).toEqual(rollout);
    expect(data.rollout!.lanes.map((l) => [l.ring, l.devices.length])).toEqual(rollout.rings.map((g) => [g.name, g.size]));
    // Its marks and failures are history --rollout's steps: the text of each, and every change of a ring's failures.
    const steps = rolloutHistory({ events }, rollout.rollout);
    const at = (time: string) => Date.parse(time) - Date.parse(data.base);
    const failed = data.rollout!.marks.filter((m) => m.kind === 'failed');
    expect(failed.length).toBe(failedIn(rollout));
    expect(failed.map((m) => [m.t, m.device, m.text])).toEqual(
      steps.filter((st) => st.event.type === 'DeviceFailed').map((st) => [at(st.event.time), (st.event.data as { device: string }).device, rolloutChanges(st.before, st.after).join('; ')]),
    );
    for (const [i, ring] of rollout.rings.entries()) {
      const changes = steps.filter((st) => st.after.rings[i]!.failed !== (st.before?.rings[i]!.failed ?? 0) || (st.after.rings[i]!.started !== null && (st.before?.rings[i]!.started ?? null) === null));
      expect(data.rollout!.failures[i]!.points).toEqual(changes.map((st) => [at(st.event.time), st.after.rings[i]!.failed]));
      expect(data.rollout!.failures[i]!.ring).toBe(ring.name);
    }
    const history = deviceHistory({ events }, 'dev-00001');
    const device = await buildReportData({ subject: { kind: 'device', id: 'dev-00001', history }, source: 'sim', read });
    expect(device.device!.history.map((r) => [r.position, r.before, r.after])).toEqual(history.map((s) => [s.position, s.before?.state ?? null, s.after.state]));
  });

  it('gives each device’s state at the halt as replay --at the halt gives it, even in a window that opens after it', async () => {
    const projection = new FleetProjection();
    events.forEach((e) => projection.apply(e));
    const id = fleetStatus(projection, projection.latestTime).rollouts.find((r) => r.halt !== null)!.rollout;
    const whole = await buildReportData({ subject: { kind: 'rollout', id }, source: 'sim', read });
    const haltAt = Date.parse(whole.base) + whole.rollout!.halt!.t;
    const replayed = new Map(fleetAt({ events }, { kind: 'time', time: new Date(haltAt).toISOString() }).map((d) => [d.device, d.state]));
    const late = await buildReportData({ subject: { kind: 'rollout', id }, source: 'sim', read, from: new Date(haltAt + 3_600_000).toISOString() });
    for (const data of [whole, late]) {
      expect(data.rollout!.halt!.devices.length).toBeGreaterThan(0);
      expect(data.rollout!.halt!.devices.map((d) => [d.device, d.stateAtHalt])).toEqual(data.rollout!.halt!.devices.map((d) => [d.device, replayed.get(d.device)]));
    }
  });

  it('draws every transition of the machine, each state once', () => {
    const diagram = lifecycleDiagram();
    expect(diagram.nodes.map((n) => n.state).sort()).toEqual([...DEVICE_STATES].sort());
    const drawn = new Set(diagram.edges.flatMap((e) => e.events.map((ev) => `${e.source} ${ev} ${e.target}`)));
    expect(deviceLifecycle.transitions.filter((t) => !drawn.has(`${t.source} ${t.eventType} ${t.target}`))).toEqual([]);
    expect(new Set(diagram.nodes.map((n) => `${n.x},${n.y}`)).size).toBe(diagram.nodes.length);
  });
});

describe('a report up to --to', () => {
  it('ends its axis there and reads no event after it: its states are replay --at’s then, its rollouts as they stood', async () => {
    const to = events[Math.floor(events.length / 2)]!.time;
    const data = await buildReportData({ subject: { kind: 'fleet' }, source: 'sim', read, to });
    expect(data.base.slice(0, 19)).toBe(events[0]!.time.slice(0, 19));
    expect(new Date(Date.parse(data.base) + data.window[1]).toISOString()).toBe(new Date(to).toISOString());
    const replayed = new Map(fleetAt({ events }, { kind: 'time', time: to }).map((d) => [d.device, d.state]));
    const drawn = data.fleet.flatMap((l) => l.devices.map((d) => [d.id, data.states[d.steps.at(-1)!]] as const));
    expect(new Map(drawn)).toEqual(replayed);
    // A rollout cut at --to stands as its history stood then (history --rollout --at).
    const id = events.filter((e) => e.type === 'RolloutPlanned' && e.time < to).at(-1)!.stream.slice('rollout/'.length);
    const until = rolloutHistory({ events }, id, { kind: 'time', time: to });
    const cut = await buildReportData({ subject: { kind: 'rollout', id }, source: 'sim', read, to });
    const { version: _v, time: _t, ...then } = until.at(-1)!.after;
    expect({ ...cut.rollout!.progress, rings: cut.rollout!.progress.rings.map((g) => (g.started === null ? { ...g, size: null } : g)) }).toEqual(then);
  });

  it('cuts the what-if there too: its rollout as the what-if’s own history stood then, beside the recorded one', async () => {
    const plan = events.find((e) => e.type === 'RolloutPlanned')!;
    const id = plan.stream.slice('rollout/'.length);
    const to = new Date(Date.parse(plan.time) + 2 * 3_600_000).toISOString();
    const data = await buildReportData({ subject: { kind: 'rollout', id }, source: 'sim', read, to, whatIf: { name: 'policy.json', policy: DEFAULT_POLICY, recorded: events } });
    const store = createInMemoryEventStore();
    await whatIf({ recorded: events, policy: DEFAULT_POLICY, store });
    const log: HotpatchEvent[] = [];
    for await (const e of readLog(store)) log.push(e);
    const steps = rolloutHistory({ events: log }, id, { kind: 'time', time: to });
    const { version: _v, time: _t, ...then } = steps.at(-1)!.after;
    expect(rolloutHistory({ events: log }, id).at(-1)!.after.state).not.toBe(then.state);
    const progress = data.whatIf!.rollout!.progress;
    expect({ ...progress, rings: progress.rings.map((g) => (g.started === null ? { ...g, size: null } : g)) }).toEqual(then);
  });
});

describe('a report’s data read on (the live console)', () => {
  it('is, asked again after each further part of the log, what a fresh read of as much gives (seeded)', async () => {
    const rollout = events.find((e) => e.type === 'RolloutPlanned')!.stream.slice('rollout/'.length);
    const subjects: ReportSubject[] = [{ kind: 'fleet' }, { kind: 'rollout', id: rollout }];
    const first = events.findIndex((e) => e.stream === `rollout/${rollout}`);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...subjects), fc.uniqueArray(fc.integer({ min: first + 1, max: events.length }), { minLength: 1, maxLength: 3 }), async (subject, cuts) => {
        const collector = reportCollector({ subject, source: 'sim' });
        let read = 0;
        for (const cut of [...cuts.sort((a, b) => a - b), events.length]) {
          for (; read < cut; read++) collector.add(events[read]!);
          const fresh = await buildReportData({ subject, source: 'sim', read: async (add) => events.slice(0, cut).forEach(add) });
          expect(await reportDataOf(collector, { subject, source: 'sim' })).toEqual(fresh);
        }
      }),
      { seed: 41, numRuns: 6 },
    );
  });

  it('draws a device from the fleet’s collector read on, asked between the fleet’s turns, as a fresh `report --device` of as much (seeded)', async () => {
    const devices = [...new Set(events.filter((e) => e.stream.startsWith('device/')).map((e) => e.stream.slice('device/'.length)))].slice(0, 8);
    const historyOf = (id: string, cut: number) => deviceHistory({ events: events.slice(0, cut).filter((e) => e.stream === `device/${id}`) }, id);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...devices), fc.uniqueArray(fc.integer({ min: 1, max: events.length }), { minLength: 1, maxLength: 3 }), async (id, cuts) => {
        // The console's: one collector of the fleet, asked for the fleet and for the device in turn.
        const collector = reportCollector({ subject: { kind: 'fleet' }, source: 'sim' });
        let read = 0;
        for (const cut of [...cuts.sort((a, b) => a - b), events.length]) {
          for (; read < cut; read++) collector.add(events[read]!);
          const history = historyOf(id, cut);
          if (history.length === 0) continue;
          await reportDataOf(collector, { subject: { kind: 'fleet' }, source: 'sim' });
          const subject = { kind: 'device', id, history } as const;
          const fresh = await buildReportData({ subject, source: 'sim', read: async (add) => events.slice(0, cut).forEach(add) });
          expect(await reportDataOf(collector, { subject, source: 'sim' })).toEqual(fresh);
        }
      }),
      { seed: 43, numRuns: 6 },
    );
  });
});
