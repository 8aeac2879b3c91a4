import { readFile } from 'node:fs/promises';
import { DEFAULT_POLICY, PolicyError, simulate, validatePolicy, type Arm, type ArmFigures, type FleetPolicy, type SimulationResult } from '@hotpatch/fleet';
import { createInMemoryEventStore } from '@hotpatch/store';
import { CheckFailed, parse, positiveInt, UsageError, type CommandSpec, type Output } from '../args.js';
import { json, table } from '../format.js';
import { describeSource, openEventStore, parseStoreSource, type StoreSource } from '../store-source.js';

function progress(io: Output, label: string) {
  let lastLine = '';
  return (p: { at: string; share: number }) => {
    if (io.isTTY) {
      const width = 30;
      const filled = Math.round(p.share * width);
      process.stdout.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(p.share * 100)}% ${p.at.slice(0, 10)}`);
      if (p.share >= 1) process.stdout.write('\n');
    } else {
      // A plain line per simulated week when the output is not a terminal.
      const week = `${label}: ${p.at.slice(0, 10)} (${Math.round(p.share * 100)}%)`;
      if (new Date(p.at).getUTCDay() === 1 && week !== lastLine) {
        lastLine = week;
        io.err(week);
      }
    }
  };
}

const f1 = (x: number | null) => (x === null ? '-' : x.toFixed(1));
const f2 = (x: number | null) => (x === null ? '-' : x.toFixed(2));

export function comparisonTable(hot: ArmFigures, trad: ArmFigures): string {
  const rows: Array<[string, string, string]> = [
    ['reboots per device per year', f2(hot.rebootsPerDevicePerYear), f2(trad.rebootsPerDevicePerYear)],
    ['device downtime, hours (total)', f1(hot.downtimeHours), f1(trad.downtimeHours)],
    ['downtime per device per year, hours', f2(hot.downtimeHoursPerDevicePerYear), f2(trad.downtimeHoursPerDevicePerYear)],
    ['days exposed after release, median', f2(hot.medianDaysExposed), f2(trad.medianDaysExposed)],
    ['days exposed after release, p95', f2(hot.p95DaysExposed), f2(trad.p95DaysExposed)],
    ['(release, device) pairs still exposed', String(hot.stillExposed), String(trad.stillExposed)],
    ['live rollbacks (failed)', `${hot.rollbacks} (${hot.rollbackFailures})`, `${trad.rollbacks} (${trad.rollbackFailures})`],
    ['rollouts halted', hot.haltedRollouts.join(', ') || 'none', trad.haltedRollouts.join(', ') || 'none'],
    ['devices needing attention', String(hot.needingAttention), String(trad.needingAttention)],
    ['events in the log', String(hot.events), String(trad.events)],
  ];
  return table(['', 'hotpatch', 'traditional (monthly restart)'], rows);
}

export const simulateCommand: CommandSpec = {
  name: 'simulate',
  summary: 'simulate a fleet over months: hotpatch against traditional patching, measured from the logs',
  usage: `hotpatch simulate [--devices N] [--months M] [--seed S] [--policy file.json] [--store <source>] [--json]

  Builds a fleet (default 1,000 devices; editions, Arm64 with and without CHPE, some without VBS), a release
  calendar from the catalog (default 12 months from January 2026: quarterly baselines, hotpatch months, one
  unplanned baseline, one out-of-band fix) and agents with injected faults (apply failures, stalled applies,
  health failures concentrated on one hotpatch, failed rollbacks, agents going silent, duplicated, late and
  reordered reports). It runs them twice on a simulated clock: through the orchestrator with hotpatches (into
  --store, default in memory), and with a cumulative update and a restart every month (in memory, or with
  --store sqlite:PATH in PATH's sibling NAME.traditional.db); then compares the two from their logs.
  Deterministic: the same seed writes the same log, byte for byte.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { devices: { type: 'string' }, months: { type: 'string' }, seed: { type: 'string' }, policy: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const devices = positiveInt(values.devices as string | undefined, '--devices', 1000);
    const months = positiveInt(values.months as string | undefined, '--months', 12);
    const seed = positiveInt(values.seed as string | undefined, '--seed', 1);
    let policy: FleetPolicy = DEFAULT_POLICY;
    if (values.policy !== undefined) {
      try {
        policy = validatePolicy(JSON.parse(await readFile(values.policy as string, 'utf8')), values.policy as string);
      } catch (error) {
        if (error instanceof PolicyError || error instanceof SyntaxError) throw new CheckFailed(`${values.policy as string}: ${(error as Error).message}`);
        throw new UsageError(`--policy: cannot read ${values.policy as string}`);
      }
    }
    const source = values.store !== undefined ? parseStoreSource(values.store as string) : undefined;
    // A SQLite simulation keeps the traditional arm's log in a file beside the hotpatch one (a large fleet's logs
    // do not fit in memory); otherwise it is kept in memory. Simulated logs are written with synchronous=NORMAL:
    // a seed writes them again, byte for byte. Every device's state stays in the store's cache (about half a kilobyte
    // each): the simulation touches every device every month.
    const tradSource: StoreSource | undefined = source?.kind === 'sqlite' ? { kind: 'sqlite', path: source.path.replace(/(\.[^./\\]*)?$/, '.traditional$1') } : undefined;
    const results: SimulationResult[] = [];
    const started = Date.now();
    const arms: Array<[Arm, StoreSource | undefined, string]> = [
      ['hotpatch', source, 'hotpatch   '],
      ['traditional', tradSource, 'traditional'],
    ];
    for (const [arm, where, label] of arms) {
      const store = where ? await openEventStore(where, { durability: 'normal', stateCacheSize: devices + 1_000 }) : createInMemoryEventStore();
      try {
        if ((await store.readAll({ limit: 1 })).length > 0) throw new CheckFailed(`${where ? describeSource(where) : 'store'} is not empty; a simulation needs an empty store`);
        results.push(await simulate({ devices, months, seed, policy, store, arm, onProgress: progress(io, label) }));
      } finally {
        await store.close();
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const [hot, trad] = results as [SimulationResult, SimulationResult];
    if (values.json) {
      io.out(json({ devices, months, seed, seconds, store: source ? describeSource(source) : 'memory', hotpatch: hot.figures, traditional: trad.figures }));
      return;
    }
    io.out(`\nhotpatch simulate — ${devices} devices, ${months} months from ${hot.start.slice(0, 7)}, seed ${seed}, ${seconds.toFixed(1)} s`);
    io.out(`Releases: ${hot.releases.map((r) => r.id).join(', ')}`);
    io.out(`Rings: ${policy.rings.map((r) => `${r.name} (deferral ${r.deferralDays} d, budget ${'count' in r.budget ? r.budget.count : `${r.budget.percent}%`})`).join(', ')}\n`);
    io.out(comparisonTable(hot.figures, trad.figures));
    io.out(`\nEvery figure is computed from the simulated logs${source ? ` (the hotpatch log is in ${describeSource(source)}${tradSource ? `, the traditional one in ${describeSource(tradSource)}` : ''})` : ''}; the same faults were drawn for both arms' fleets.`);
  },
};
