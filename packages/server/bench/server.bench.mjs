#!/usr/bin/env node
/**
 * `pnpm bench:server`: agents' reports over HTTP, as many as autocannon can send, against `hotpatch serve` in a child
 * process (client and server on this machine, loopback), beside a bare Fastify route (the ceiling: what a Fastify
 * process here answers when it does nothing). Each case prepares its fleet first with the library (N devices enrolled
 * in one ring of a 100% budget, a hotpatch planned, every device instructed, an agent token per device), then sends
 * each device its `applied` report (a unit of work each: the device's and the rollout's events in one transaction),
 * each request a device of its own, then each its `health` report. Prints reports/s, p50 and p99, the ratio to the
 * bare route, and each target met or not.
 *
 *   node packages/server/bench/server.bench.mjs [--devices 1000,100000] [--reports 20000] [--connections 32]
 *        [--only sqlite|postgres|bare] [--postgres URL] [--serve-args="OPTIONS[|OPTIONS…]"]
 *
 * Beside the rates, figures a busy machine blurs less: the server's CPU time and its event loop's busy time per
 * report, SQL statements per report, reports per commit, state-cache misses and hits per report (probe.mjs).
 * --serve-args: options for `hotpatch serve` (and `--env=NAME=VALUE`, an environment variable of that server's); several variants, separated by "|", each run on a copy of the same
 * prepared SQLite fleet (e.g. --serve-args="|--report-thread on" runs serve as it is and with its report thread; over
 * PostgreSQL each variant on a fleet prepared for it); a variant's
 * --bin=PATH serves with another build's CLI (e.g. a worktree of main: --serve-args="--bin=../base/packages/cli/dist/bin.js|").
 *
 * PostgreSQL: HOTPATCH_BENCH_POSTGRES_URL or --postgres (default postgres://postgres@127.0.0.1:5432/postgres), a new
 * schema per case, dropped after; one instance, then two (two servers over the schema, each sent half the devices).
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { prepareFleet } from './prepare.mjs';
import { probedChild } from './probed-child.mjs';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000,100000' },
    reports: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
    'serve-args': { type: 'string', default: '' },
    postgres: { type: 'string', default: process.env.HOTPATCH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const connections = Number(args.connections);
const maxReports = Number(args.reports);
const scratch = mkdtempSync(join(tmpdir(), 'hotpatch-bench-server-'));
/** Options for `hotpatch serve`; variants separated by "|" (see above). */
const serveArgs = args['serve-args'].split('|').map((v) => v.split(' ').filter(Boolean));
const TARGET = { sqlite: 5000, postgres: 3000, p99: 50, ofBare: 0.3 };

/** Options for the server's Node, e.g. HOTPATCH_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" for a profile of each (an absolute directory: the servers run in the scratch directory). */
const nodeArgs = (process.env.HOTPATCH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * A child process serving, with probe.mjs loaded; resolves with its URL once it listens. `probe()` asks it for its CPU
 * time and counts so far (SIGUSR2).
 */
// In the scratch directory: a server over PostgreSQL makes its seal key in the working directory.
const child = (argv, env = {}) =>
  probedChild({ nodeArgs, argv, cwd: scratch, env: { ...process.env, ...env }, ready: (err) => {
    const m = /listening on (http:\/\/\S+)/.exec(err);
    return m ? { url: m[1] } : undefined;
  } });

/** What the servers spent on a phase of `reports` reports: CPU µs, statements, state-cache misses per report, reports per commit. */
function spent(before, after, reports) {
  const sum = (list, key) => list.reduce((s, p) => s + p[key], 0);
  const delta = (key) => sum(after, key) - sum(before, key);
  return {
    cpuUs: (delta('user') + delta('system')) / reports,
    systemUs: delta('system') / reports,
    loopUs: (1000 * delta('active')) / reports,
    statements: delta('statements') / reports,
    perCommit: delta('commits') > 0 ? reports / delta('commits') : NaN,
    misses: delta('stateMisses') / reports,
    hits: delta('stateHits') / reports,
    rss: Math.max(...after.map((p) => p.rss)),
    promises: delta('promises') / reports,
  };
}

/**
 * autocannon over `bodies` (one request each, in turn, spread over the connections); the figures it gives, and
 * `lastAt` (performance.now() at the last response). autocannon reports a run with `amount` only at its next
 * sample tick (sampleInt, a second), so the wall time around its callback is rounded up to whole seconds: a run of
 * 10,000 reports that took 2.1 s read as 3 s (3,333/s at most). The rate is taken from the last response instead.
 */
function load(url, path, requests) {
  let next = 0;
  let lastAt = 0;
  return new Promise((ok, fail) => {
    const instance = autocannon(
      {
        url: url + path,
        connections: Math.min(connections, requests.length),
        amount: requests.length,
        method: 'POST',
        requests: [
          {
            setupRequest: (req) => {
              const r = requests[next++ % requests.length];
              return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${r.token}` }, body: JSON.stringify(r.body) };
            },
          },
        ],
      },
      (error, result) => (error ? fail(error) : ok({ ...result, lastAt: lastAt || performance.now() })),
    );
    instance.on('response', () => {
      lastAt = performance.now();
    });
  });
}

/**
 * The CPU time of every PostgreSQL process on this machine so far, in µs (Linux: /proc/PID/stat's utime + stime, in
 * clock ticks of 10 ms), or NaN where /proc cannot tell. Another client's queries on the same server count too.
 */
function databaseCpuUs() {
  try {
    let ticks = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      } catch {
        continue; // gone meanwhile
      }
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks * 10_000;
  } catch {
    return Number.NaN;
  }
}

/** The rate over the run: from its start to its last response (see load). */
const figures = (result, seconds) => ({ rps: result.requests.total / seconds, seconds, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, load: loadavg()[0] });
const rows = [];
const costs = [];

async function bare() {
  const file = join(scratch, 'bare.mjs');
  writeFileSync(
    file,
    `import Fastify from ${JSON.stringify(join(root, 'packages/server/node_modules/fastify/fastify.js'))};
const app = Fastify({ logger: false, bodyLimit: 1 << 20 });
app.post('/v1/reports', async () => ({ status: 'recorded', events: 1 }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write('listening on ' + url + '\\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));`,
  );
  const server = await child([file]);
  const requests = Array.from({ length: Math.max(maxReports, 20_000) }, () => ({ token: 'x', body: { kind: 'applied', id: randomUUID(), device: 'd', patch: 'p' } }));
  const before = await server.probe();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const result = await load(server.url, '/v1/reports', requests);
  const client = process.cpuUsage(clientBefore);
  const r = figures(result, (result.lastAt - started) / 1000);
  // The floor of a report's CPU: what HTTP and Fastify alone cost the server a request.
  r.cost = spent([before], [await server.probe()], result.requests.total);
  r.cost.clientUs = (client.user + client.system) / result.requests.total;
  await server.stop();
  return r;
}

async function storeCase(kind, devices, instances, serveArgs) {
  // Over PostgreSQL, each variant on a fleet prepared for it (a schema is not copied as a file is).
  if (kind !== 'sqlite' && serveArgs.length > 1) {
    const runs = [];
    for (const extra of serveArgs) runs.push(...(await storeCase(kind, devices, instances, [extra])));
    return runs;
  }
  const fleet = await prepareFleet({ kind, devices, scratch, postgres: args.postgres });
  try {
    const runs = [];
    for (const [v, extra] of serveArgs.entries()) {
      // Each variant on the fleet as prepared: a copy of the SQLite file.
      let store = fleet.store;
      if (serveArgs.length > 1) {
        const path = fleet.store.slice('sqlite:'.length);
        copyFileSync(path, `${path}.${v}`);
        store = `sqlite:${path}.${v}`;
      }
      runs.push(await storeRun(fleet, store, devices, instances, extra));
    }
    return runs;
  } finally {
    await fleet.dispose();
  }
}

async function storeRun(fleet, store, devices, instances, extra) {
  const servers = [];
  try {
    // A variant's `--bin=PATH`: another build's CLI (a worktree of the commit before a change), side by side.
    const other = extra.find((a) => a.startsWith('--bin='));
    const serve = other !== undefined ? resolve(other.slice('--bin='.length)) : bin;
    // A variant's `--env=NAME=VALUE`: an environment variable of its server's alone.
    const env = Object.fromEntries(extra.filter((a) => a.startsWith('--env=')).map((a) => [a.slice(6, a.indexOf('=', 6)), a.slice(a.indexOf('=', 6) + 1)]));
    const options = extra.filter((a) => a !== other && !a.startsWith('--env='));
    for (let i = 0; i < instances; i++) servers.push(await child([serve, 'serve', '--store', store, '--port', '0', '--tick-ms', '3600000', '--policy', fleet.policyFile, ...options], env));
    const n = Math.min(devices, maxReports);
    const phase = async (kindOf) => {
      const share = Math.ceil(n / instances);
      const before = await Promise.all(servers.map((s) => s.probe()));
      const clientBefore = process.cpuUsage();
      const databaseBefore = store.startsWith('postgres') ? databaseCpuUs() : Number.NaN;
      const started = performance.now();
      const results = await Promise.all(
        servers.map((s, i) => load(s.url, '/v1/reports', fleet.agents.slice(i * share, (i + 1) * share).map((a) => ({ token: a.token, body: kindOf(a.device) })))),
      );
      // From the start to the last response of any instance's load (see load).
      const seconds = (Math.max(...results.map((r) => r.lastAt)) - started) / 1000;
      const total = results.reduce((sum, r) => sum + r.requests.total, 0);
      const client = process.cpuUsage(clientBefore);
      const cost = spent(before, await Promise.all(servers.map((s) => s.probe())), total);
      // The client's CPU (autocannon, this process) beside the server's on the same cores.
      cost.clientUs = (client.user + client.system) / total;
      cost.databaseUs = (databaseCpuUs() - databaseBefore) / total;
      return { cost, load: loadavg()[0], rps: total / seconds, p50: Math.max(...results.map((r) => r.latency.p50)), p99: Math.max(...results.map((r) => r.latency.p99)), non2xx: results.reduce((s, r) => s + r.non2xx, 0), errors: results.reduce((s, r) => s + r.errors, 0) };
    };
    const applied = await phase((device) => ({ kind: 'applied', id: randomUUID(), device, patch: fleet.patch }));
    const health = await phase((device) => ({ kind: 'health', id: randomUUID(), device, patch: fleet.patch, healthy: true }));
    return { applied, health, reports: n, extra };
  } finally {
    for (const s of servers) await s.stop();
  }
}

/**
 * The state cache's misses and hits a report, as the probe counts them (StateCache.at): PostgreSQL's readState takes a
 * kept state without asking the cache again (a read may have replaced it meanwhile), so over PostgreSQL the count
 * would say none: left out rather than wrong.
 */
const cacheColumn = (kind, c) => (kind === 'postgres' ? '' : `${c.misses.toFixed(2)} / ${c.hits.toFixed(2)}`);

const show = (name, f, ceiling, target) =>
  rows.push([name, f.rps.toFixed(0), `${f.p50} ms`, `${f.p99} ms`, ceiling ? `${((100 * f.rps) / ceiling).toFixed(0)}%` : '', f.load.toFixed(1), f.non2xx + f.errors ? `${f.non2xx} non-2xx, ${f.errors} errors` : '', target === undefined ? '' : f.rps >= target && f.p99 < TARGET.p99 && (!ceiling || f.rps >= TARGET.ofBare * ceiling) ? 'met' : 'NOT met']);

console.error(`bench:server — ${cpus().length} cores (${cpus()[0]?.model}), Node ${process.version}, ${new Date().toISOString()}, ${connections} connections`);
const ceiling = args.only === undefined || args.only === 'bare' ? await bare() : undefined;
if (ceiling) {
  show('bare Fastify route', ceiling, undefined, undefined);
  const c = ceiling.cost;
  costs.push(['bare Fastify route (per request)', `${c.cpuUs.toFixed(0)} (${c.systemUs.toFixed(0)} system)`, c.clientUs.toFixed(0), '', c.loopUs.toFixed(0), (1e6 / c.loopUs).toFixed(0), '', '', '', `${(c.rss / 2 ** 20).toFixed(0)} MiB`]);
}
for (const devices of args.devices.split(',').map(Number)) {
  for (const [kind, instances] of [['sqlite', 1], ['postgres', 1], ['postgres', 2]]) {
    if (args.only !== undefined && args.only !== kind) continue;
    for (const r of await storeCase(kind, devices, instances, serveArgs)) {
      const label = `${kind}${kind === 'postgres' ? ` ×${instances}` : ''}, ${devices.toLocaleString('en')} devices${r.extra.length ? ` (${r.extra.join(' ')})` : ''}`;
      show(`${label}: applied (${r.reports.toLocaleString('en')})`, r.applied, ceiling?.rps, TARGET[kind]);
      show(`${label}: health`, r.health, ceiling?.rps, TARGET[kind]);
      for (const [phase, f] of [['applied', r.applied], ['health', r.health]]) {
        const c = f.cost;
        if (!Number.isNaN(c.promises)) console.error(`  ${label}: ${phase}: ${c.promises.toFixed(1)} promises/report`);
        costs.push([`${label}: ${phase}`, `${c.cpuUs.toFixed(0)} (${c.systemUs.toFixed(0)} system)`, c.clientUs.toFixed(0), Number.isNaN(c.databaseUs) ? '' : c.databaseUs.toFixed(0), c.loopUs.toFixed(0), (1e6 / c.loopUs).toFixed(0), c.statements.toFixed(1), Number.isNaN(c.perCommit) ? '' : c.perCommit.toFixed(1), cacheColumn(kind, c), `${(c.rss / 2 ** 20).toFixed(0)} MiB`]);
      }
    }
    console.error(`  done: ${kind}${kind === 'postgres' ? ` ×${instances}` : ''}, ${devices.toLocaleString('en')} devices`);
  }
}
const head = ['case', 'reports/s', 'p50', 'p99', 'of bare', 'load', 'failed', `target (≥ ${TARGET.sqlite}/s SQLite, ≥ ${TARGET.postgres}/s PostgreSQL, p99 < ${TARGET.p99} ms, ≥ ${100 * TARGET.ofBare}% of bare)`];
const table = (header, body) => {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  for (const r of [header, ...body]) console.log(r.map((c, i) => String(c).padEnd(widths[i])).join('  '));
};
table(head, rows);
if (costs.length > 0) {
  console.log('');
  // Figures a busy machine changes less than the rates: the server's CPU time, and its event loop's busy time (CPU
  // plus the waits that hold the thread, as a COMMIT's fsync), per report; the loop's time bounds the rate of one server.
  table(['case', 'server CPU µs/report', 'client CPU µs/report', 'PostgreSQL CPU µs/report', 'event loop busy µs/report', 'reports/s the loop allows', 'statements/report', 'reports/commit', 'state cache misses / hits per report', 'server RSS'], costs);
}
rmSync(scratch, { recursive: true, force: true });
