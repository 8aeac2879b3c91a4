/**
 * Concurrent callers (issue 20, item 1): hundreds of reports and ticks made at once of one orchestrator end as the
 * same calls made one at a time in call order (the order its units of work run in), on every store; two instances
 * over one database, given reports at once (for different devices, and the same report on both), lose nothing and
 * write nothing twice. Seeded: the same calls every run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom, type RingPolicy } from '@hotpatch/core';
import type { EventStore, RecordedEvent } from '@hotpatch/store';
import { simulatedClock, type SimulatedClock } from '../clock.js';
import type { FleetPolicy } from '../policy.js';
import { createOrchestrator } from './shell.js';
import { BACKENDS, callOn, devicesOf, enrol, freshFold, logOf, removeFiles, Reports, shuffle, statesOf, together, type Call, type Outcome } from './testing/concurrency.js';
import { inChildProcess, inProcess, type Instance } from './testing/instances.js';
import { HOTPATCH, POLICY, RELEASED } from './testing/given.js';

afterAll(removeFiles);

// The whole pilot ring at once; a broad ring whose gate a few failures do not hold up.
const [pilot, broad] = POLICY.rings as [RingPolicy, RingPolicy];
const policy: FleetPolicy = { ...POLICY, rings: [{ ...pilot, budget: { percent: 100 } }, { ...broad, gate: pilot.gate }] };
const PILOT = devicesOf('pilot', 50);
const BROAD = devicesOf('broad', 70);
const tick: Call = { kind: 'tick' };
const ticks = (n: number): Call[] => Array.from({ length: n }, () => tick);

interface Round {
  /** Moves the clock before the round's calls. */
  readonly at: (clock: SimulatedClock) => void;
  readonly calls: readonly Call[];
}

/**
 * A rollout's rounds: in each, ticks and reports made at once, shuffled (a report may come before the tick that
 * instructs its device: it is ignored), some sent twice (an agent retrying), health overtaking the apply report.
 */
function rollout(seed: number): Round[] {
  const random = seededRandom(seed);
  const reports = new Reports(random);
  const sent: Call[] = [];
  const report = (r: Call & { kind: 'report' }) => (sent.push(r), r);
  const wave = (devices: readonly string[], healthShare: number) => {
    const calls: Call[] = [];
    for (const device of devices) {
      const applied = report({ kind: 'report', report: reports.applied(device) });
      calls.push(applied);
      if (random.chance(0.3)) calls.push(applied);
      if (random.chance(healthShare)) calls.push(report({ kind: 'report', report: reports.health(device) }));
    }
    return calls;
  };
  const rest = (devices: readonly string[]) => devices.map((device) => report({ kind: 'report', report: reports.health(device) }));
  const again = (n: number) => Array.from({ length: n }, () => random.pick(sent));
  const ghosts = Array.from({ length: 3 }, (_, i) => report({ kind: 'report', report: reports.applied(`ghost-${i}`) }));
  return [
    { at: () => {}, calls: shuffle(random, [...ticks(12), ...wave(PILOT, 0.4), ...wave(BROAD.slice(0, 10), 0), ...ghosts]) },
    { at: (c) => c.advance(25 * 3600), calls: shuffle(random, [...ticks(10), ...rest(PILOT), ...again(25)]) },
    { at: (c) => c.jumpTo('2026-02-13T18:00:00.000Z'), calls: shuffle(random, [...ticks(16), ...wave(BROAD, 0.5), ...again(10)]) },
    { at: (c) => c.advance(2 * 3600), calls: shuffle(random, [...ticks(10), ...rest(BROAD), ...wave(BROAD.slice(35), 0)]) },
    { at: (c) => c.advance(25 * 3600), calls: shuffle(random, [...ticks(8), ...rest(BROAD.slice(0, 30)), ...again(20)]) },
  ];
}

/** A fleet enrolled with fixed ids and the hotpatch's rollout planned, on a new database. */
async function planned(database: { readonly store: EventStore }, rings: Readonly<Record<string, readonly string[]>>, meta?: { readonly instance: string }) {
  const clock = simulatedClock(RELEASED);
  await enrol(database.store, clock, rings);
  const o = createOrchestrator({ store: database.store, clock, policy, checkpoint: { name: 'orchestrator', every: 40 }, ...(meta ? { meta } : {}) });
  await o.planRollout(HOTPATCH);
  return { clock, o };
}

const tally = (outcomes: readonly Outcome[]) => {
  const count: Record<string, number> = {};
  for (const o of outcomes) {
    const key = 'status' in o ? o.status : 'tick';
    count[key] = (count[key] ?? 0) + 1;
  }
  return count;
};

/** Each device's events (as decided: id, version, type, data), and the rollout's events whatever their order. */
async function streamsOf(store: EventStore) {
  const byStream = new Map<string, RecordedEvent[]>();
  for (const e of await store.readAll()) {
    if (!byStream.has(e.stream)) byStream.set(e.stream, []);
    byStream.get(e.stream)!.push(e);
  }
  const shown = ([stream, events]: [string, RecordedEvent[]]) =>
    stream.startsWith('rollout/') ? events.map((e) => ({ id: e.id, type: e.type, data: e.data })).sort((x, y) => x.id.localeCompare(y.id)) : events.map((e) => ({ id: e.id, version: e.version, type: e.type, data: e.data }));
  return Object.fromEntries([...byStream].sort(([x], [y]) => x.localeCompare(y)).map((entry) => [entry[0], shown(entry)]));
}

/** Nothing in the log twice: each device staged and started on the hotpatch at most once. */
async function expectEachStepOnce(store: EventStore) {
  const twice = new Map<string, number>();
  for (const e of await store.readAll()) if (e.type === 'PatchStaged' || e.type === 'PatchApplyStarted' || e.type === 'DeviceInstructed') twice.set(`${e.stream} ${e.type} ${JSON.stringify(e.data)}`, (twice.get(`${e.stream} ${e.type} ${JSON.stringify(e.data)}`) ?? 0) + 1);
  expect([...twice].filter(([, n]) => n > 1)).toEqual([]);
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== undefined)(`concurrent calls on ${backend.name}${backend.skip !== undefined ? ` (skipped: ${backend.skip})` : ''}`, () => {
    it('hundreds of reports and ticks made at once of one orchestrator end as the same calls made one at a time', async () => {
      const rounds = rollout(20);
      const calls = rounds.reduce((n, r) => n + r.calls.length, 0);
      expect(calls).toBeGreaterThanOrEqual(300);
      const [atOnce, oneByOne] = [await backend.create(), await backend.create()];
      try {
        const a = await planned(atOnce, { pilot: PILOT, broad: BROAD });
        const b = await planned(oneByOne, { pilot: PILOT, broad: BROAD });
        const answers: Outcome[][] = [[], []];
        for (const round of rounds) {
          round.at(a.clock);
          round.at(b.clock);
          answers[0]!.push(...(await together(round.calls.map((call) => () => callOn(a.o, call)))));
          for (const call of round.calls) answers[1]!.push(await callOn(b.o, call));
        }
        expect(answers[0]).toEqual(answers[1]);
        expect(await logOf(atOnce.store)).toEqual(await logOf(oneByOne.store));
        const fresh = (await freshFold(atOnce.store)).serialize();
        expect(a.o.projection.serialize()).toEqual(fresh);
        expect(b.o.projection.serialize()).toEqual(fresh);
        await expectEachStepOnce(atOnce.store);
        // The calls went through every path (recorded, retried, ignored), and the rollout through both rings to its end.
        const count = tally(answers[0]!);
        for (const status of ['recorded', 'duplicate', 'ignored']) expect(count[status], status).toBeGreaterThan(10);
        expect(a.o.projection.rollouts.get(HOTPATCH.id)!.state).toMatchObject({ value: 'completed', context: { rings: [{ gatePassed: true }, { gatePassed: true }] } });
        console.info(`${backend.name}: ${calls} calls at once in ${rounds.length} rounds (${JSON.stringify(count)})`);
      } finally {
        await atOnce.dispose();
        await oneByOne.dispose();
      }
    });

    it('instances over one database given reports at once, for other devices and the same device: nothing lost, nothing twice', async () => {
      const random = seededRandom(7);
      const reports = new Reports(random);
      const rings = { pilot: PILOT, broad: BROAD.slice(0, 20) };
      const [shared, alone] = [await backend.create(), await backend.create()];
      const instances: Instance[] = [];
      try {
        const first = await planned(shared, rings, { instance: 'a' });
        const single = await planned(alone, rings);
        await first.o.tick(); // the whole pilot ring instructed
        await single.o.tick();
        const before = (await shared.store.readAll()).length;
        // Two instances in this process (on PostgreSQL, each with its own pool); on SQLite a third in another process.
        instances.push(inProcess('a', first.o), inProcess('b', createOrchestrator({ store: await shared.another(), clock: first.clock, policy, meta: { instance: 'b' } })));
        if (shared.path !== undefined) instances.push(await inChildProcess('c', shared.path, first.clock.now().toISOString(), policy));
        // Each report to one instance or to several at once (the same report: an agent retrying elsewhere), or twice to one.
        const n = instances.length;
        const targets = [...instances.map((_, k) => [k]), [0, 1], [0, 0], [0, n - 1, n - 1], instances.map((_, k) => k)];
        const round = (make: (device: string) => Call & { kind: 'report' }) => PILOT.map((device) => ({ call: make(device), to: random.pick(targets) }));
        const rounds = [round((d) => ({ kind: 'report', report: reports.applied(d) })), round((d) => ({ kind: 'report', report: reports.health(d) }))];
        let made = 0;
        const byReport: Array<[string[], string[]]> = [];
        const shown = (results: readonly Outcome[]) => results.map((r) => JSON.stringify(r)).sort();
        for (const sends of rounds) {
          const calls = shuffle(random, [...sends.flatMap(({ call, to }, i) => to.map((k) => ({ k, call, i }))), ...instances.flatMap((_, k) => ticks(8).map((call) => ({ k, call, i: -1 })))]);
          made += calls.length;
          const mine = instances.map((_, k) => calls.filter((c) => c.k === k));
          const answers = await Promise.all(instances.map((instance, k) => instance.run(mine[k]!.map((c) => c.call))));
          const got: Outcome[][] = sends.map(() => []);
          mine.forEach((list, k) => list.forEach(({ i }, m) => i >= 0 && got[i]!.push(answers[k]![m]!)));
          // The same reports one at a time on one instance, then its ticks.
          for (const [i, { call, to }] of sends.entries()) {
            const results: Outcome[] = [];
            for (const _ of to) results.push(await callOn(single.o, call));
            byReport.push([shown(got[i]!), shown(results)]);
          }
          for (let k = 0; k < 8 * n; k++) await single.o.tick();
        }
        // Each report answered as one instance answers it: recorded once, then duplicates (or ignored alike).
        expect(byReport.map(([atOnce]) => atOnce)).toEqual(byReport.map(([oneByOne]) => oneByOne));
        const fresh = await freshFold(shared.store);
        // (The machines' fingerprint in the header is the build's: the other process runs the built packages.)
        const unsigned = (parts: readonly string[]) => parts.map((part) => part.replace(/"machines":"[^"]*"/, '"machines":""'));
        for (const instance of instances) expect(unsigned(await instance.projection()), instance.name).toEqual(unsigned(fresh.serialize()));
        expect(statesOf(fresh)).toEqual(statesOf(single.o.projection));
        expect(await streamsOf(shared.store)).toEqual(await streamsOf(alone.store));
        await expectEachStepOnce(shared.store);
        expect(made).toBeGreaterThanOrEqual(150);
        // Every instance wrote, and their writes came between each other's (their meta says which wrote what).
        const writers = (await shared.store.readAll()).slice(before).map((e) => (e.meta as { instance: string }).instance);
        expect(new Set(writers)).toEqual(new Set(instances.map((i) => i.name)));
        const turns = writers.filter((w, i) => i > 0 && w !== writers[i - 1]).length;
        expect(turns).toBeGreaterThan(10);
        console.info(`${backend.name}: ${instances.length} instances, ${made} calls at once, the writer changing ${turns} times in ${writers.length} events`);
      } finally {
        for (const instance of instances) await instance.close();
        await shared.dispose();
        await alone.dispose();
      }
    });
  });
}
