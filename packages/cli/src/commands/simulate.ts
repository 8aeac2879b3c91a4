import { existsSync } from 'node:fs';
import { readSmallFile, scopeStore } from '@hotpatch/store';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DEFAULT_POLICY, PolicyError, validatePolicy, type FleetPolicy } from '@hotpatch/fleet';
import type { Arm, ArmFigures, SimulationResult } from '@hotpatch/simulator';
import { InvariantError, validateInvariantsFile, type CustomInvariant } from '@hotpatch/check';
import { CheckFailed, parse, positiveInt, UsageError, type CommandSpec, type Output, fleetSize } from '../args.js';
import { json, table } from '../format.js';
import { describeSource, openEventStore, parseStoreSource, type StoreSource } from '../store-source.js';
import { runArm, type ArmJob, type ArmMessage, type ArmProgress } from './simulate-arm.js';
import { ofTenant, TENANT_OPTION, tenantFlag } from '../tenant.js';

/** The longest simulation: ten years of releases (a larger figure is a typo, and would run for hours). */
const MAX_MONTHS = 120;

const LABELS: Record<Arm, string> = { hotpatch: 'hotpatch   ', traditional: 'traditional' };

/**
 * Progress of both arms: on a terminal, one line redrawn with a bar per arm; otherwise a plain line per simulated
 * week and arm.
 */
function progressDisplay(io: Output, arms: readonly Arm[]) {
  const latest = new Map<Arm, ArmProgress>();
  const lastLine = new Map<Arm, string>();
  let finished = false;
  return (arm: Arm, p: ArmProgress) => {
    if (io.isTTY) {
      latest.set(arm, p);
      const width = 20;
      const bars = arms.map((a) => {
        const share = latest.get(a)?.share ?? 0;
        const filled = Math.round(share * width);
        return `${a} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
      });
      process.stdout.write(`\r${bars.join('  ')}`);
      if (!finished && arms.every((a) => (latest.get(a)?.share ?? 0) >= 1)) {
        finished = true;
        process.stdout.write('\n');
      }
    } else {
      const week = `${LABELS[arm]}: ${p.at.slice(0, 10)} (${Math.round(p.share * 100)}%)`;
      if (new Date(p.at).getUTCDay() === 1 && week !== lastLine.get(arm)) {
        lastLine.set(arm, week);
        io.err(week);
      }
    }
  };
}

/** The built worker entry of an arm, or undefined when there is none (the CLI run from its sources unbuilt). */
export function armWorker(): string | undefined {
  try {
    const path = createRequire(import.meta.url).resolve('@hotpatch/cli/simulate-arm');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the arms in worker threads, one each: side by side (the default), or one after the other (`sideBySide:
 * false`, half the memory at the peak). The first failure stops them all.
 */
export async function inWorkers(path: string, jobs: readonly ArmJob[], onProgress: (arm: Arm, p: ArmProgress) => void, options: { readonly sideBySide?: boolean } = {}): Promise<SimulationResult[]> {
  const sideBySide = options.sideBySide ?? true;
  const workers: Worker[] = [];
  const inWorker = (job: ArmJob) =>
    new Promise<SimulationResult>((resolve, reject) => {
      // The worker runs the built JavaScript as it is: none of this thread's flags (a test runner's export
      // conditions, say) are passed on. Each arm's heap may grow to its share of 80% of the machine's memory (V8's
      // default stops near 4 GB, short of a million devices' projections); --max-old-space-size, when given, still
      // decides.
      const maxOldGenerationSizeMb = Math.max(4096, Math.floor((totalmem() * 0.8) / (sideBySide ? jobs.length : 1) / 2 ** 20));
      const worker = new Worker(path, { workerData: { hotpatchArm: job }, execArgv: [], resourceLimits: { maxOldGenerationSizeMb } });
      workers.push(worker);
      let settled = false;
      worker.on('message', (m: ArmMessage) => {
        if (m.kind === 'progress') return onProgress(job.arm, m.progress);
        settled = true;
        if (m.kind === 'result') return resolve(m.result);
        const error = new Error(`${job.arm} arm: ${m.message}`);
        error.name = m.name;
        if (m.stack !== undefined) error.stack = m.stack;
        reject(error);
      });
      worker.on('error', (error) => {
        settled = true;
        reject(error);
      });
      worker.on('exit', (code) => {
        if (!settled) reject(new Error(`${job.arm} arm: its worker thread exited with code ${code} before it finished`));
      });
    });
  try {
    if (sideBySide) return await Promise.all(jobs.map(inWorker));
    const results: SimulationResult[] = [];
    for (const job of jobs) results.push(await inWorker(job));
    return results;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * A policy file, checked: an unreadable file is a usage error, an invalid policy a failed check naming the problem.
 * The file may also hold `invariants` of your own (for `hotpatch check --policy`; docs/model-checking.md): their shape
 * is checked here for every command, what they name by the check; the orchestrator never reads them.
 */
export async function readPolicyDocument(path: string, flag = '--policy'): Promise<{ readonly policy: FleetPolicy; readonly invariants?: CustomInvariant[] }> {
  let read: Awaited<ReturnType<typeof readSmallFile>>;
  try {
    read = await readSmallFile(path);
  } catch {
    throw new UsageError(`${flag}: cannot read ${path}`);
  }
  if ('tooLarge' in read) throw new CheckFailed(`${path}: larger than 1 MiB: not a policy`);
  const { text } = read;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !('invariants' in value)) return { policy: validatePolicy(value, path) };
    const { invariants, ...rest } = value as { invariants: unknown };
    const policy = validatePolicy(rest, path);
    return { policy, invariants: validateInvariantsFile({ invariants }, path) };
  } catch (error) {
    // A PolicyError and an InvariantError name the file and the path in it already.
    if (error instanceof PolicyError || error instanceof InvariantError) throw new CheckFailed(error.message);
    if (error instanceof SyntaxError) throw new CheckFailed(`${path}: ${error.message}`);
    throw error;
  }
}

/** A policy file's policy (its own invariants checked and left aside: see readPolicyDocument); `flag` names it. */
export async function readPolicyFile(path: string, flag?: string): Promise<FleetPolicy> {
  return (await readPolicyDocument(path, flag)).policy;
}

/** A policy's rings in a line: name, deferral and budget of each. */
const describeRings = (rings: FleetPolicy['rings']) => rings.map((r) => `${r.name} (deferral ${r.deferralDays} d, budget ${'count' in r.budget ? r.budget.count : `${r.budget.percent}%`})`).join(', ');

const f1 = (x: number | null) => (x === null ? '-' : x.toFixed(1));
const f2 = (x: number | null) => (x === null ? '-' : x.toFixed(2));

export function comparisonTable(hot: ArmFigures, trad: ArmFigures, columns: readonly [string, string] = ['hotpatch', 'traditional (monthly restart)']): string {
  const rows: Array<[string, string, string]> = [
    ['reboots per device per year', f2(hot.rebootsPerDevicePerYear), f2(trad.rebootsPerDevicePerYear)],
    ['device downtime, hours (total)', f1(hot.downtimeHours), f1(trad.downtimeHours)],
    ['downtime per device per year, hours', f2(hot.downtimeHoursPerDevicePerYear), f2(trad.downtimeHoursPerDevicePerYear)],
    ['days exposed after release, median', f2(hot.medianDaysExposed), f2(trad.medianDaysExposed)],
    ['days exposed after release, p95', f2(hot.p95DaysExposed), f2(trad.p95DaysExposed)],
    ['(release, device) pairs still exposed', String(hot.stillExposed), String(trad.stillExposed)],
    ['live rollbacks (failed)', `${hot.rollbacks} (${hot.rollbackFailures})`, `${trad.rollbacks} (${trad.rollbackFailures})`],
    ['updates uninstalled (a restart each)', String(hot.uninstalls), String(trad.uninstalls)],
    ['rollouts halted', hot.haltedRollouts.join(', ') || 'none', trad.haltedRollouts.join(', ') || 'none'],
    ['devices needing attention', String(hot.needingAttention), String(trad.needingAttention)],
    ['events in the log', String(hot.events), String(trad.events)],
  ];
  return table(['', ...columns], rows);
}

export const simulateCommand: CommandSpec = {
  name: 'simulate',
  summary: 'simulate a fleet over months: hotpatch against traditional patching, measured from the logs',
  usage: `hotpatch simulate [--devices N] [--months M] [--seed S] [--policy file.json] [--store <source>] [--tenant T] [--sequential] [--json]

  Builds a fleet (default 1,000 devices; editions, Arm64 with and without CHPE, some without VBS), a release
  calendar from the catalog (default 12 months from January 2026: quarterly baselines, hotpatch months, one
  unplanned baseline, one out-of-band fix) and agents with injected faults (apply failures, stalled applies,
  health failures concentrated on one hotpatch, failed rollbacks, agents going silent, duplicated, late and
  reordered reports). It runs them twice on a simulated clock: through the orchestrator with hotpatches (into
  --store, default in memory), and with a cumulative update and a restart every month (in memory, or with
  --store sqlite:PATH in PATH's sibling NAME.traditional.db); then compares the two from their logs. A release
  fails health as often in either form (the bad fix in its hotpatch and in its cumulative update alike); an
  update a device is unwell on is uninstalled with a restart, and past the ring's budget its rollout halts.
  The two arms run side by side in two worker threads; --sequential runs them one after the other (half the
  memory at the peak).
  Deterministic: the same seed writes the same log, byte for byte, either way.
  --tenant T: both fleets are tenant T's (their streams tenant/T/…, docs/tenants.md); a --store need only hold
  nothing of T's.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { devices: { type: 'string' }, months: { type: 'string' }, seed: { type: 'string' }, policy: { type: 'string' }, store: { type: 'string' }, sequential: { type: 'boolean' }, json: { type: 'boolean' }, ...TENANT_OPTION });
    const tenant = tenantFlag(values.tenant);
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const devices = fleetSize(values.devices as string | undefined, 1000);
    const months = positiveInt(values.months as string | undefined, '--months', 12);
    if (months > MAX_MONTHS) throw new UsageError(`--months: at most ${MAX_MONTHS} (ten years), got ${String(values.months)}`);
    const seed = positiveInt(values.seed as string | undefined, '--seed', 1);
    const policy = values.policy === undefined ? DEFAULT_POLICY : await readPolicyFile(values.policy as string);
    const source = values.store !== undefined ? parseStoreSource(values.store as string) : undefined;
    // A SQLite simulation keeps the traditional arm's log in a file beside the hotpatch one (a large fleet's logs
    // do not fit in memory); otherwise it is kept in memory.
    const tradSource: StoreSource | undefined = source?.kind === 'sqlite' ? { kind: 'sqlite', path: source.path.replace(/(\.[^./\\]*)?$/, '.traditional$1') } : undefined;
    const jobs: ArmJob[] = [
      { arm: 'hotpatch', devices, months, seed, policy, ...(source ? { source } : {}), ...(tenant !== undefined ? { tenant } : {}) },
      { arm: 'traditional', devices, months, seed, policy, ...(tradSource ? { source: tradSource } : {}), ...(tenant !== undefined ? { tenant } : {}) },
    ];
    // Both stores are checked before either arm writes anything.
    for (const job of jobs) {
      if (!job.source) continue;
      const opened = await openEventStore(job.source);
      try {
        const store = tenant === undefined ? opened : scopeStore(opened, tenant);
        if ((await store.readAll({ limit: 1 })).length > 0) throw new CheckFailed(`${ofTenant(describeSource(job.source), tenant)} is not empty; a simulation needs an empty store`);
      } finally {
        await opened.close();
      }
    }
    // A simulation's heap grows steadily while it allocates fast; V8's default growing factor then lets the heap
    // run to several times what is live before a full collection. 1.5x keeps a 100,000-device run's memory near
    // what it uses, at no measurable cost in time (30,000 devices x 4 months: peak RSS 624 -> 381 MB, same time).
    // V8 flags are per process, so this reaches the arms' worker threads too; the CLI process runs one command.
    v8.setFlagsFromString('--heap-growing-percent=50');
    const started = Date.now();
    const show = progressDisplay(
      io,
      jobs.map((j) => j.arm),
    );
    // The arms share nothing but their inputs: side by side in two worker threads (two cores), or one after the
    // other when asked (each then in a worker thread of its own, whose heap may grow further than this thread's);
    // in this thread when the CLI runs unbuilt. Each writes the same log either way.
    const worker = armWorker();
    const results: SimulationResult[] = [];
    if (worker !== undefined) results.push(...(await inWorkers(worker, jobs, show, { sideBySide: !values.sequential })));
    else for (const job of jobs) results.push(await runArm(job, (p) => show(job.arm, p)));
    const seconds = (Date.now() - started) / 1000;
    const [hot, trad] = results as [SimulationResult, SimulationResult];
    if (values.json) {
      io.out(json({ devices, months, seed, ...(tenant !== undefined ? { tenant } : {}), seconds, workers: worker !== undefined, sideBySide: worker !== undefined && !values.sequential, store: source ? describeSource(source) : 'memory', hotpatch: hot.figures, traditional: trad.figures }));
      return;
    }
    io.out(`\nhotpatch simulate — ${devices} devices, ${months} months from ${hot.start.slice(0, 7)}, seed ${seed}, ${seconds.toFixed(1)} s`);
    io.out(`Releases: ${hot.releases.map((r) => r.id).join(', ')}`);
    io.out(`Rings: ${describeRings(policy.rings)}\n`);
    io.out(comparisonTable(hot.figures, trad.figures));
    io.out(`\nEvery figure is computed from the simulated logs${source ? ` (the hotpatch log is in ${describeSource(source)}${tradSource ? `, the traditional one in ${describeSource(tradSource)}` : ''})` : ''}; the same faults were drawn for both arms' fleets.`);
  },
};
