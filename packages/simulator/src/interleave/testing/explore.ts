/**
 * Many schedules, drawn by fast-check from one seed: each a number of instances (2 or 3) and a list of choices (see
 * run.ts). A schedule whose log breaks a check is shrunk by fast-check (fewer, smaller choices: a shorter schedule of
 * plainer steps) and given back with what replays it: the seed and path (fast-check's), and the shrunk schedule
 * itself (`HOTPATCH_INTERLEAVE_REPLAY`). Test-only: not built nor published.
 */
import fc from 'fast-check';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { runSchedule, type RunResult } from '../run.js';
import type { WorldOptions } from '../world.js';

/** A schedule: how many instances, and the choices. */
export interface Schedule {
  readonly instances: number;
  readonly choices: readonly number[];
}

export interface ExploreOptions {
  readonly runs: number;
  readonly seed: number;
  /** fast-check's path to one run (printed with a failure): replays that run and its shrinking. */
  readonly path?: string;
  /** The database of each run (default: SQLite, see sqliteDatabase). */
  readonly database?: () => Database;
  readonly orchestrator?: WorldOptions['orchestrator'];
  /** The longest list of choices (default 300). */
  readonly maxChoices?: number;
}

export interface Found {
  readonly seed: number;
  readonly path: string;
  readonly schedule: Schedule;
  readonly result: RunResult;
}

export interface Explored {
  /** Runs made, shrinking included. */
  readonly runs: number;
  readonly ms: number;
  /** How the runs' rollouts ended, and how many crashes and events they had. */
  readonly endings: Readonly<Record<string, number>>;
  readonly crashes: number;
  readonly events: number;
  readonly found?: Found;
}

/** A run's database: the store the instances share, a handle reading what it committed, and its removal. */
export interface Database {
  readonly store: EventStore;
  readonly reader: EventStore;
  close(): Promise<void>;
}

let made = 0;
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'hotpatch-interleave-'));

/** A SQLite file (in memory where the system has /dev/shm): one handle for the instances, one reading for the agents. */
export function sqliteDatabase(): Database {
  const path = join(dir, `run-${process.pid}-${++made}.db`);
  const store = openSqliteEventStore({ path, durability: 'normal' });
  const reader = openSqliteEventStore({ path, readonly: true });
  return {
    store,
    reader,
    close: async () => {
      await reader.close();
      await store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
}

/** The in-memory store (no transactions: each append commits on its own). */
export function memoryDatabase(): Database {
  const store = createInMemoryEventStore();
  return { store, reader: store, close: async () => {} };
}

/** Removes the databases' directory. */
export const removeDatabases = () => rmSync(dir, { recursive: true, force: true });

/** Runs one schedule on a database of its own. */
export async function runOne(schedule: Schedule, options: Pick<ExploreOptions, 'database' | 'orchestrator'> = {}): Promise<RunResult> {
  const db = (options.database ?? sqliteDatabase)();
  try {
    return await runSchedule(schedule.choices, { store: db.store, reader: db.reader, instances: schedule.instances, ...(options.orchestrator ? { orchestrator: options.orchestrator } : {}) });
  } finally {
    await db.close();
  }
}

export const scheduleArbitrary = (maxChoices = 300): fc.Arbitrary<Schedule> => fc.record({ instances: fc.integer({ min: 2, max: 3 }), choices: fc.array(fc.noBias(fc.nat()), { maxLength: maxChoices, size: 'max' }) });

/** Runs `runs` schedules from `seed`; the first that breaks a check, shrunk. */
export async function explore(options: ExploreOptions): Promise<Explored> {
  let runs = 0;
  let crashes = 0;
  let events = 0;
  const endings: Record<string, number> = {};
  const started = performance.now();
  const details = await fc.check(
    fc.asyncProperty(scheduleArbitrary(options.maxChoices), async (schedule) => {
      runs++;
      const result = await runOne(schedule, options);
      endings[result.ending] = (endings[result.ending] ?? 0) + 1;
      crashes += result.crashes;
      events += result.events;
      return result.violations.length === 0;
    }),
    { seed: options.seed, numRuns: options.runs, ...(options.path !== undefined ? { path: options.path } : {}) },
  );
  const ms = performance.now() - started;
  const stats = { runs, ms, endings, crashes, events };
  if (!details.failed || details.counterexample === null) return stats;
  const [schedule] = details.counterexample;
  return { ...stats, found: { seed: details.seed, path: details.counterexamplePath ?? '', schedule, result: await runOne(schedule, options) } };
}

/** A failure as a person replays it: the seed and path, the schedule as a list, the violations, the steps. */
export function describeFound(found: Found): string {
  const { seed, path, schedule, result } = found;
  return [
    `${result.violations.length} violation(s) after ${result.choicesUsed} choices (${schedule.instances} instances):`,
    ...result.violations.map((v) => `  ✗ ${v.check}: ${v.detail}`),
    `replay the run: HOTPATCH_INTERLEAVE_SEED=${seed} HOTPATCH_INTERLEAVE_PATH='${path}'`,
    `replay the shrunk schedule: HOTPATCH_INTERLEAVE_REPLAY='${JSON.stringify(schedule)}'`,
    'the schedule:',
    ...result.schedule.map((line, i) => `${String(i + 1).padStart(4)}. ${line}`),
  ].join('\n');
}
