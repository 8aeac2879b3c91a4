#!/usr/bin/env node
/**
 * A unit of work on PostgreSQL, side by side with a baseline build and with SQLite, in one run, taking turns:
 * (a) `simulate --devices 2000 --months 2 --seed 3 --sequential` into PostgreSQL (this build and the baseline's) and
 * into SQLite; (b) `import` of an exported 10,000-device year into PostgreSQL (both builds) and SQLite. Each
 * PostgreSQL run gets a new database, dropped after. Prints medians, each round, the targets met or not, and checks
 * every simulated log is the same, byte for byte.
 *
 *   node packages/store-postgres/bench/unit-of-work.bench.mjs --base ../pg-base [--rounds 3] [--only simulate|import]
 *
 * --base: a worktree of the baseline, built (`npx tsc -b packages/cli`). The server: HOTPATCH_BENCH_POSTGRES_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres), a role that may create databases.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values: args } = parseArgs({ options: { base: { type: 'string' }, rounds: { type: 'string', default: '3' }, only: { type: 'string' }, year: { type: 'string', default: '/tmp/hotpatch-bench-year.jsonl' } } });
if (args.base === undefined) throw new Error('--base <worktree of the baseline, built> is required');
const here = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const builds = { before: resolve(args.base), after: here };
const cli = (build) => join(build, 'packages/cli/dist/bin.js');
for (const build of Object.values(builds)) if (!existsSync(cli(build))) throw new Error(`${cli(build)}: not built (npx tsc -b packages/cli)`);
const rounds = Number(args.rounds);
const server = new URL(process.env.HOTPATCH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const admin = new pg.Client({ connectionString: server.href });
await admin.connect();
const databaseUrl = (name) => Object.assign(new URL(server.href), { pathname: `/${name}` }).href;

/** Runs the CLI of `build`; gives the wall time and the CPU time of the process (its worker threads included). */
function timed(build, argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, cli(build), ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: user + sys };
}
const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
let n = 0;
async function withDatabase(work) {
  const name = `hotpatch_bench_${process.pid}_${++n}`;
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    return await work(databaseUrl(name));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

const simulate = ['simulate', '--devices', '2000', '--months', '2', '--seed', '3', '--sequential'];
const results = new Map();
const record = (key, run) => results.set(key, [...(results.get(key) ?? []), run]);
const digests = new Set();

for (let round = 1; round <= rounds; round++) {
  // Taking turns: the baseline first in odd rounds, this build first in even ones.
  const order = round % 2 === 1 ? ['before', 'after'] : ['after', 'before'];
  if (args.only !== 'import') {
    for (const which of order) {
      const build = builds[which];
      const log = `/tmp/hotpatch-bench-${process.pid}.jsonl`;
      await withDatabase(async (url) => {
        record(`simulate, PostgreSQL, ${which}`, timed(build, [...simulate, '--store', url]));
        execFileSync(process.execPath, [cli(build), 'export', '--store', url, '--out', log], { stdio: 'ignore' });
        digests.add(sha256(log));
      });
      const db = `/tmp/hotpatch-bench-${process.pid}-${which}.db`;
      record(`simulate, SQLite, ${which}`, timed(build, [...simulate, '--store', `sqlite:${db}`]));
      execFileSync(process.execPath, [cli(build), 'export', '--store', `sqlite:${db}`, '--out', log], { stdio: 'ignore' });
      digests.add(sha256(log));
      for (const f of [db, `${db}-wal`, `${db}-shm`, db.replace(/\.db$/, '.traditional.db'), log]) rmSync(f, { force: true });
    }
  }
  if (args.only !== 'simulate') {
    if (!existsSync(args.year)) {
      const db = `/tmp/hotpatch-bench-year-${process.pid}.db`;
      execFileSync(process.execPath, [cli(here), 'simulate', '--devices', '10000', '--months', '12', '--seed', '1', '--store', `sqlite:${db}`], { stdio: 'ignore' });
      execFileSync(process.execPath, [cli(here), 'export', '--store', `sqlite:${db}`, '--out', args.year], { stdio: 'ignore' });
      for (const f of [db, `${db}-wal`, `${db}-shm`, db.replace(/\.db$/, '.traditional.db')]) rmSync(f, { force: true });
    }
    for (const which of order) await withDatabase(async (url) => record(`import, PostgreSQL, ${which}`, timed(builds[which], ['import', args.year, '--store', url])));
    // The same import into SQLite (its store is the same in both builds): what is not PostgreSQL's.
    const db = `/tmp/hotpatch-bench-import-${process.pid}.db`;
    record('import, SQLite', timed(here, ['import', args.year, '--store', `sqlite:${db}`]));
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
  }
}
await admin.end();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (runs) => runs.map((r) => r.wall.toFixed(1)).join(', ');
const row = (key) => {
  const runs = results.get(key);
  return runs === undefined ? undefined : { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), runs };
};
console.log(`${cpus()[0]?.model} × ${cpus().length}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ${rounds} rounds (median; each round's wall time)`);
for (const key of results.keys()) {
  const r = row(key);
  console.log(`${key.padEnd(32)} ${r.wall.toFixed(2).padStart(7)} s wall  ${r.cpu.toFixed(2).padStart(7)} s CPU   (${spread(r.runs)})`);
}
/** The events in the year's file: one a line. */
const countLines = (file) => {
  const bytes = readFileSync(file);
  let lines = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++;
  return lines;
};
const events = existsSync(args.year) ? countLines(args.year) : 0;
for (const which of ['before', 'after']) {
  const pgRun = row(`simulate, PostgreSQL, ${which}`);
  const sqlite = row(`simulate, SQLite, ${which}`);
  if (pgRun && sqlite) {
    const ratios = pgRun.runs.map((r, i) => (r.wall / sqlite.runs[i].wall).toFixed(2));
    const ratio = pgRun.wall / sqlite.wall;
    console.log(`${which}: simulate on PostgreSQL ${ratio.toFixed(2)}× SQLite's (each round ${ratios.join(', ')}): target ≤ 2×: ${ratio <= 2 ? 'met' : 'NOT met'}`);
  }
  const imported = row(`import, PostgreSQL, ${which}`);
  if (imported && events > 0) {
    const rate = events / imported.wall;
    console.log(`${which}: import ${events} events into PostgreSQL at ${Math.round(rate)} events/s (${imported.runs.map((r) => Math.round(events / r.wall)).join(', ')}): target ≥ 25,000: ${rate >= 25_000 ? 'met' : 'NOT met'}`);
  }
}
const sqliteImport = row('import, SQLite');
if (sqliteImport && events > 0) console.log(`import into SQLite (for comparison): ${Math.round(events / sqliteImport.wall)} events/s`);
if (digests.size > 0) console.log(digests.size === 1 ? `every simulated log the same: ${[...digests][0]}` : `LOGS DIFFER: ${[...digests].join(', ')}`);
