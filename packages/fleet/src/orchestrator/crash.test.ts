/**
 * A process killed between the commits of a unit of work, at every commit of a rollout's busiest tick and of its
 * busiest report: a fresh instance over the same log runs on to the end, and the end is the crash-free run's (the same
 * device states, rollout outcome and counts, gates within one tick, no instruction nor event twice). On every store:
 * each append on its own (a crash leaves a gap, which the next tick heals), and, where the store has them, units in
 * one transaction (a crash leaves nothing of the unit).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type EventStore, type RecordedEvent } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import type { Gap } from '../projection/healed.js';
import { runRollout, type RunResult, type StoreOpener } from './testing/crash-run.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-crash-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const postgresUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!postgresUrl) console.warn('crash tests on PostgreSQL skipped: HOTPATCH_TEST_POSTGRES_URL is not set');

let runs = 0;
/** A store of its own for each run, opened again after a crash as a fresh process would. */
const STORES: Record<string, { readonly opener: () => StoreOpener & { drop(): Promise<void> }; readonly batch: boolean; readonly skip?: string }> = {
  memory: {
    batch: false,
    opener: () => {
      const store = createInMemoryEventStore();
      return { open: async () => store, close: async () => {}, drop: async () => {} };
    },
  },
  sqlite: {
    batch: true,
    opener: () => {
      const path = join(dir, `run-${++runs}.db`);
      return { open: async () => openSqliteEventStore({ path, durability: 'normal' }), close: (store) => store.close(), drop: () => rm(path, { force: true }) };
    },
  },
  postgres: {
    batch: true,
    ...(postgresUrl ? {} : { skip: 'HOTPATCH_TEST_POSTGRES_URL is not set' }),
    opener: () => {
      const schema = `hotpatch_heal_${process.pid}_${++runs}`;
      const open = async () => {
        const { createPostgresEventStore } = await import('@hotpatch/store-postgres');
        return createPostgresEventStore({ connectionString: postgresUrl!, schema });
      };
      return {
        open,
        close: (store: EventStore) => store.close(),
        drop: async () => {
          const store = await open();
          await (store as unknown as { pool: { query(sql: string): Promise<unknown> } }).pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await store.close();
        },
      };
    },
  },
};

async function run(store: keyof typeof STORES, options: Parameters<typeof runRollout>[1] = {}): Promise<RunResult> {
  const opener = STORES[store]!.opener();
  try {
    return await runRollout(opener, options);
  } finally {
    await opener.drop();
  }
}

/** The gap a crash right after this event leaves: what the next tick heals (none after the instruction). */
function gapAfter(event: RecordedEvent): Gap | undefined {
  if (event.type === 'PatchStaged') return 'staged-without-instruction';
  if (event.type === 'PatchApplyStarted') return 'applying-without-instruction';
  if (event.type === 'RebootRequired') return 'reboot-without-instruction';
  return undefined;
}

/** The end a crashed run reached is the crash-free run's. */
function expectSameEnd(crashed: RunResult, free: RunResult): void {
  expect(crashed.crashed).toBe(true);
  expect(crashed.devices).toEqual(free.devices);
  expect(crashed.rollout?.value).toBe('completed');
  expect(crashed.rollout?.value).toBe(free.rollout?.value);
  expect(crashed.outcomes).toEqual(free.outcomes);
  const counts = (r: RunResult) => r.rollout!.context.rings.map(({ size, inFlight, succeeded, failed, setAside, gatePassed }) => ({ size, inFlight, succeeded, failed, setAside, gatePassed }));
  expect(counts(crashed)).toEqual(counts(free));
  expect(crashed.gates.map((g) => g.ring)).toEqual(free.gates.map((g) => g.ring));
  crashed.gates.forEach((g, i) => expect(Math.abs(Date.parse(g.at) - Date.parse(free.gates[i]!.at))).toBeLessThanOrEqual(3_600_000));
  // Nothing twice: no id, no instruction, no stage of a patch on a device.
  const { events } = crashed;
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const instructed = events.filter((e) => e.type === 'DeviceInstructed').map((e) => (e.data as { device: string }).device);
  expect(instructed.sort()).toEqual([...free.outcomes.keys()].sort());
  const stages = events.filter((e) => e.type === 'PatchStaged').map((e) => `${e.stream} ${(e.data as { patch: string }).patch}`);
  expect(new Set(stages).size).toBe(stages.length);
  const rolloutEvents = events.filter((e) => e.stream.startsWith('rollout/')).map((e) => `${e.type} ${JSON.stringify(e.data)}`);
  expect(new Set(rolloutEvents).size).toBe(rolloutEvents.length);
}

for (const [name, { batch, skip }] of Object.entries(STORES) as Array<[keyof typeof STORES, (typeof STORES)[keyof typeof STORES]]>) {
  describe.skipIf(skip !== undefined)(`a crash at every commit of the busiest tick and report, on ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    for (const hideBatch of batch ? [true, false] : [true]) {
      it(`${hideBatch ? 'each append committed on its own: the gap is healed' : 'each unit in one transaction: nothing of it is kept'}, and the end is the crash-free run’s`, async () => {
        const free = await run(name, { hideBatch });
        expect(free.crashed).toBe(false);
        expect(free.rollout?.value).toBe('completed');
        const busiest = (kind: 'tick' | 'report') => free.commits.filter((c) => c.kind === kind).reduce((a, b) => (b.commits > a.commits ? b : a));
        const tick = busiest('tick');
        const report = busiest('report');
        expect(tick.commits).toBeGreaterThanOrEqual(15);
        expect(report.commits).toBe(3);
        let healedRuns = 0;
        for (const target of [tick, report]) {
          const written = writtenBy(free, target.unit);
          expect(written).toHaveLength(target.commits);
          for (let k = 1; k <= target.commits; k++) {
            const crashed = await run(name, { hideBatch, crash: { unit: target.unit, k } });
            expectSameEnd(crashed, free);
            // What was healed: the gap the crash left, where each append committed on its own and the tick's
            // instruction was cut short; nothing where the unit was rolled back (or a report's steps, which the agent's
            // retry carries on).
            const gap = hideBatch && target.kind === 'tick' && k < target.commits ? gapAfter(written[k - 1]!) : undefined;
            const device = written[k - 1]!.stream.slice('device/'.length);
            expect(crashed.healed.map((h) => [h.device, h.gap])).toEqual(gap === undefined ? [] : [[device, gap]]);
            if (gap !== undefined) healedRuns++;
          }
        }
        if (hideBatch) expect(healedRuns).toBeGreaterThan(5);
      }, 600_000);
    }
  });
}

/** The events a unit of the crash-free run wrote, one per append (the first event of each). */
function writtenBy(free: RunResult, unit: number): RecordedEvent[] {
  const { events, commits } = free;
  // Units commit in order: the unit's appends follow the ones before it (after the fleet's enrolment).
  const byCommand = new Map<string, RecordedEvent>();
  for (const e of events) {
    const command = (e.meta?.['command'] as string | undefined) ?? e.id;
    if (!byCommand.has(command)) byCommand.set(command, e);
  }
  const appends = [...byCommand.values()];
  const enrolment = appends.length - commits.reduce((n, c) => n + c.commits, 0);
  const from = enrolment + commits.filter((c) => c.unit < unit).reduce((n, c) => n + c.commits, 0);
  return appends.slice(from, from + commits.find((c) => c.unit === unit)!.commits);
}
