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
  /** Only this check fails a run (the others are not looked at): to find and shrink one known failure. */
  readonly only?: string;
  /** How long shrinking a failure may take, in ms (default 60,000). */
  readonly shrinkMs?: number;
  /** The longest list of choices (default 300). */
  readonly maxChoices?: number;
}

export interface Found {
  readonly seed: number;
  readonly path: string;
  /** The schedule shrunk, and its run. */
  readonly schedule: Schedule;
  readonly result: RunResult;
  /** How many choices the failing schedule had before shrinking, and the runs shrinking made. */
  readonly original: number;
  readonly shrinkRuns: number;
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
      return !result.violations.some((v) => options.only === undefined || v.check === options.only);
    }),
    // fast-check's own shrinking runs a schedule hundreds of times per element: shrink() below is bounded in time.
    { seed: options.seed, numRuns: options.runs, endOnFailure: true, ...(options.path !== undefined ? { path: options.path } : {}) },
  );
  const stats = { runs, ms: performance.now() - started, endings, crashes, events };
  if (!details.failed || details.counterexample === null) return stats;
  const [failing] = details.counterexample;
  const first = await runOne(failing, options);
  const check = options.only ?? first.violations[0]!.check;
  const shrunk = await shrink(failing, async (s) => (await runOne(s, options)).violations.some((v) => v.check === check), options.shrinkMs ?? 60_000);
  return { ...stats, ms: performance.now() - started, found: { seed: details.seed, path: details.counterexamplePath ?? '', schedule: shrunk.schedule, original: failing.choices.length, shrinkRuns: shrunk.runs, result: await runOne(shrunk.schedule, options) } };
}

/**
 * A shorter schedule that still fails (`fails`), within `budgetMs`: two instances if three are not needed; the shortest
 * prefix of the choices (after it the world settles, so a prefix is a schedule of its own); then chunks of 32, 16, …, 1
 * choices left out; then each choice made the plainest (0: the first of each kind of step).
 */
export async function shrink(schedule: Schedule, fails: (s: Schedule) => Promise<boolean>, budgetMs: number): Promise<{ schedule: Schedule; runs: number }> {
  const deadline = performance.now() + budgetMs;
  let best = schedule;
  let runs = 0;
  const attempt = async (candidate: Schedule) => {
    if (performance.now() > deadline) return false;
    runs++;
    if (!(await fails(candidate))) return false;
    best = candidate;
    return true;
  };
  if (best.instances > 2) await attempt({ ...best, instances: 2 });
  const list = best.choices;
  let [lo, hi] = [0, list.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (await attempt({ ...best, choices: list.slice(0, mid) })) hi = mid;
    else lo = mid + 1;
  }
  for (let size = 32; size >= 1; size >>= 1) {
    for (let i = 0; i + size <= best.choices.length; ) {
      if (!(await attempt({ ...best, choices: [...best.choices.slice(0, i), ...best.choices.slice(i + size)] }))) i += size;
    }
  }
  for (let i = 0; i < best.choices.length; i++) if (best.choices[i] !== 0) await attempt({ ...best, choices: best.choices.map((c, k) => (k === i ? 0 : c)) });
  return { schedule: best, runs };
}

/** A failure as a person replays it: the seed and path, the schedule as a list, the violations, the steps. */
export function describeFound(found: Found): string {
  const { seed, path, schedule, result } = found;
  const steps = result.schedule.filter((line) => !line.startsWith('  agent') && !line.startsWith('—')).length;
  return [
    `${result.violations.length} violation(s) after ${result.choicesUsed} choices (${schedule.instances} instances; shrunk from ${found.original} choices in ${found.shrinkRuns} runs):`,
    ...result.violations.map((v) => `  ✗ ${v.check}: ${v.detail}`),
    `replay the run found (before shrinking): HOTPATCH_INTERLEAVE_SEED=${seed} HOTPATCH_INTERLEAVE_PATH='${path}'`,
    `replay the shrunk schedule: HOTPATCH_INTERLEAVE_REPLAY='${JSON.stringify(schedule)}'`,
    `the schedule (${steps} steps, the agents' reports indented):`,
    ...result.schedule.map((line, i) => `${String(i + 1).padStart(4)}. ${line}`),
  ].join('\n');
}

/**
 * The test body of a thousand-odd seeded schedules: explores them, prints the figures, and fails with the shrunk
 * schedule that breaks a check. `HOTPATCH_INTERLEAVE_RUNS` sets how many, `HOTPATCH_INTERLEAVE_PATH` replays one.
 */
export async function keepsEveryCheck(seed: number, runs: number, path = process.env.HOTPATCH_INTERLEAVE_PATH): Promise<string | undefined> {
  const cpu = process.cpuUsage();
  const { ms, found, endings, crashes, events } = await explore({ runs, seed, ...(path ? { path } : {}) });
  const { user, system } = process.cpuUsage(cpu);
  console.info(`interleavings: ${runs} schedules (seed ${seed}) in ${(ms / 1000).toFixed(1)} s, ${(ms / runs).toFixed(0)} ms each (${((user + system) / 1000 / runs).toFixed(0)} ms of CPU); ${crashes} crashes, ${events} events; rollouts ${JSON.stringify(endings)}`);
  return found ? describeFound(found) : undefined;
}
