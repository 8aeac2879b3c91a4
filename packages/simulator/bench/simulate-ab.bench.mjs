#!/usr/bin/env node
/**
 * `hotpatch simulate` of a baseline build and of this one, taking turns (the baseline first in odd rounds, this build
 * first in even ones), as a user runs it: both arms side by side in worker threads, the log in memory. Prints each
 * run's wall and CPU time (the process's, its threads included) and peak RSS, the medians, and after/before.
 *
 *   node packages/simulator/bench/simulate-ab.bench.mjs --base /work/wt/base [--rounds 3] [--devices 10000] [--months 12] [--store sqlite]
 *
 * --store sqlite: each run on a new SQLite file (removed after), as issue 21's year is measured; the 100,000-device
 * year (`--devices 100000 --months 12 --store sqlite --rounds 1`) prints its target (under 3 minutes and 2 GB) met or not.
 *
 * --base: a worktree of the baseline, built (`npx tsc -b packages/cli`; and `node scripts/bundle-typebox.mjs` where it
 * has that script). On a machine shared with other work, wall times move by ±15% from one minute to the next:
 * compare the builds within a round, and look at the CPU time beside the wall time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    devices: { type: 'string', default: '10000' },
    months: { type: 'string', default: '12' },
    seed: { type: 'string', default: '1' },
    store: { type: 'string', default: 'memory' },
  },
});
if (args.base === undefined) throw new Error('--base <worktree of the baseline, built> is required');
const here = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const builds = { before: resolve(args.base), after: here };
const cli = (build) => join(build, 'packages/cli/dist/bin.js');
for (const build of Object.values(builds)) if (!existsSync(cli(build))) throw new Error(`${cli(build)}: not built (npx tsc -b packages/cli)`);
if (args.store !== 'memory' && args.store !== 'sqlite') throw new Error(`--store: memory or sqlite, not ${args.store}`);
const simulate = ['simulate', '--devices', args.devices, '--months', args.months, '--seed', args.seed, '--json'];

/** One run of the CLI of `build`: its wall time, CPU time (user + system) and peak RSS, from /usr/bin/time. */
function timed(build) {
  const dir = args.store === 'sqlite' ? mkdtempSync(join(tmpdir(), 'hotpatch-ab-')) : undefined;
  const store = dir === undefined ? [] : ['--store', `sqlite:${join(dir, 'year.db')}`];
  let r;
  try {
    r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, cli(build), ...simulate, ...store], { encoding: 'utf8', maxBuffer: 1 << 26 });
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
  if (r.status !== 0) throw new Error(`${build}: simulate failed:\n${r.stderr}`);
  const [wall, user, sys, rssKb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: user + sys, rssMb: rssKb / 1024 };
}

const runs = { before: [], after: [] };
const rounds = Number(args.rounds);
console.log(`simulate --devices ${args.devices} --months ${args.months} --seed ${args.seed} (${args.store}): before = ${builds.before}, after = ${builds.after}`);
for (let round = 1; round <= rounds; round++) {
  for (const which of round % 2 === 1 ? ['before', 'after'] : ['after', 'before']) {
    const run = timed(builds[which]);
    runs[which].push(run);
    console.log(`round ${round}, ${which.padEnd(6)}: wall ${run.wall.toFixed(1)} s, CPU ${run.cpu.toFixed(1)} s, peak RSS ${run.rssMb.toFixed(0)} MB`);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const key of ['wall', 'cpu']) {
  const [b, a] = [median(runs.before.map((r) => r[key])), median(runs.after.map((r) => r[key]))];
  console.log(`median ${key}: before ${b.toFixed(1)} s, after ${a.toFixed(1)} s, after/before ${(a / b).toFixed(3)}`);
}
const ratios = runs.before.map((b, i) => runs.after[i].wall / b.wall);
console.log(`after/before wall, round by round: ${ratios.map((r) => r.toFixed(3)).join(', ')}`);

if (args.store === 'sqlite' && args.devices === '100000' && args.months === '12') {
  const wall = median(runs.after.map((r) => r.wall));
  const rss = Math.max(...runs.after.map((r) => r.rssMb));
  const met = wall < 180 && rss < 2048;
  console.log(`issue 21: the 100,000-device year on SQLite in under 3 minutes and 2 GB: ${met ? 'met' : 'NOT met'} (${wall.toFixed(0)} s, peak RSS ${rss.toFixed(0)} MB; before ${median(runs.before.map((r) => r.wall)).toFixed(0)} s)`);
}
