#!/usr/bin/env node
/**
 * A soak (a benchmark, not a test): `hotpatch serve` in a child process and the simulator's agents over HTTP for M
 * minutes, reports flowing all along (a new hotpatch planned every --release-s seconds, each rolled out to every
 * device, which applies it and reports its health). Every --sample-s seconds it prints the server's RSS and heap
 * (its own /metrics: process_resident_memory_bytes, nodejs_heap_size_used_bytes; and the heap a full collection leaves,
 * from the bench's probe in a server started with --expose-gc), the reports per second it took, and the errors so far;
 * at the end, the heap's change since warm-up, whether the log verifies (`hotpatch verify --key`, after a SIGTERM), and
 * the heap after a full collection of a fresh `serve` on the same log once caught up (what holding that fleet costs,
 * without what the soaked process gathered on the way).
 *
 *   node packages/server/bench/soak.mjs --minutes M [--devices 1000] [--store sqlite|postgres://…] [--speed 3600]
 *        [--release-s 30] [--sample-s 30] [--warmup-s 120] [--plan-at-start] [--keep] [--json] [--serve-args="OPTIONS"]
 *        [--steady R]
 *
 * --serve-args: more options for `hotpatch serve` (e.g. "--report-thread on").
 * --steady R: steady reports on a fixed rollout instead of agents and releases: the bench's fleet of --devices
 * (prepare.mjs: every device instructed, a token each) sent R reports a second (see steadyReports); what the service
 * holds of its fleet does not grow with new rollouts, so the heap shows what steady reports alone leave behind.
 * --keep leaves the store and the key in the scratch folder it names. Build first (`npx tsc -b packages/cli`). A PostgreSQL URL gets a schema of its own (soak_<random>), dropped after.
 */
import { execFile } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { probedChild } from './probed-child.mjs';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    devices: { type: 'string', default: '1000' },
    store: { type: 'string', default: 'sqlite' },
    speed: { type: 'string', default: '3600' },
    'release-s': { type: 'string', default: '30' },
    'sample-s': { type: 'string', default: '30' },
    'warmup-s': { type: 'string', default: '120' },
    json: { type: 'boolean', default: false },
    'plan-at-start': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'serve-args': { type: 'string', default: '' },
    steady: { type: 'string' },
  },
});
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const { runNetworkAgents } = await import(join(root, 'packages/simulator/dist/index.js'));
const minutes = Number(args.minutes);
const devices = Number(args.devices);
const speed = Number(args.speed);
const releaseMs = Number(args['release-s']) * 1000;
const sampleMs = Number(args['sample-s']) * 1000;
const warmupMs = Number(args['warmup-s']) * 1000;
/** A mistake in the options, or a store that cannot be prepared: one line, exit 1, no scratch folder left. */
let scratch;
const fail = (message) => {
  console.error(`soak: ${message}`);
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
};
for (const [name, value] of Object.entries({ minutes, devices, speed, releaseMs, sampleMs })) {
  if (!(value > 0)) fail(`--${name}: expected a number > 0`);
}
const steadyRate = args.steady === undefined ? undefined : Number(args.steady);
if (steadyRate !== undefined && !(steadyRate > 0)) fail('--steady: expected reports per second > 0');
scratch = mkdtempSync(join(tmpdir(), 'hotpatch-soak-'));
const schema = `soak_${randomBytes(4).toString('hex')}`;
let store = args.store === 'sqlite' ? `sqlite:${join(scratch, 'hotpatch.db')}` : `${args.store}${args.store.includes('?') ? '&' : '?'}schema=${schema}`;
// One ring, every device at once: each release is a wave of instructions, apply reports and health reports.
const policy = { rings: [{ name: 'pilot', deferralDays: 0, budget: { percent: 100 }, gate: { minVerifiedShare: 0.8, maxFailureRate: 0.5, minSoakHours: 1 }, deadlineDays: 30 }], applyTimeoutMinutes: 6000, silenceHours: 4800 };
let policyFile = join(scratch, 'policy.json');
writeFileSync(policyFile, JSON.stringify(policy));
const key = join(scratch, 'seal.pem');
// --steady: the bench's fleet (prepare.mjs: N devices in one ring, a hotpatch planned, every device instructed, a
// token each), its reports sent at a steady rate (see steadyReports).
const fleet = steadyRate === undefined ? undefined : await (await import('./prepare.mjs')).prepareFleet({ kind: args.store === 'sqlite' ? 'sqlite' : 'postgres', devices, scratch, postgres: args.store }).catch((error) => fail(`the fleet could not be prepared: ${error.message}`));
if (fleet !== undefined) ({ store, policyFile } = fleet);

/**
 * `hotpatch serve` in a child with the bench's probe (`--expose-gc`: each probe answers the heap a full collection
 * leaves); resolves once it listens (and printed the operator token, on the first start).
 */
async function serve({ first }) {
  const child = await probedChild({
    nodeArgs: ['--expose-gc'],
    argv: [bin, 'serve', '--store', store, '--port', '0', '--speed', String(speed), '--policy', policyFile, '--key', key, ...args['serve-args'].split(' ').filter(Boolean)],
    cwd: scratch,
    ready: (err) => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      const t = /\n(hp_[0-9a-f]{16}_[A-Za-z0-9_-]{43})\n/.exec(err);
      return m && (t || !first) ? { url: m[1], token: t?.[1] } : undefined;
    },
  });
  /** The serving thread's heap after a full collection (bytes). */
  return { ...child, heapAfterGc: async () => (await child.probe()).heapAfterGc };
}
// A store the bench prepared is not empty: no operator token is printed.
const server = await serve({ first: fleet === undefined });
const { url, token } = server;

const operator = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
async function metrics() {
  const text = await (await fetch(`${url}/metrics`)).text();
  const one = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const reports = [...text.matchAll(/^hotpatch_reports_total\{result="([^"]+)"\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
  const http5xx = [...text.matchAll(/^hotpatch_http_request_duration_seconds_count\{[^}]*status="5\d\d"[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  return { rss: one('process_resident_memory_bytes'), heap: one('nodejs_heap_size_used_bytes'), reports, http5xx, tickFailures: one('hotpatch_tick_failures_total') };
}

const stop = new AbortController();
// Every device's calls and waits listen on it: thousands of listeners, on purpose.
setMaxListeners(0, stop.signal);
let progress;
const started = Date.now();
const agents =
  fleet === undefined
    ? runNetworkAgents({ server: url, token, devices, seed: 1, speed, rings: ['pilot'], plan: true, wait: 30, signal: stop.signal, onProgress: (p) => (progress = p) })
    : steadyReports(steadyRate);

/**
 * --steady R: R reports a second, evenly, until the soak ends: each device's `applied` report in turn, then each its
 * `health` (a fleet of N devices takes 2N / R seconds for both; after, health reports the lifecycle refuses, which
 * write nothing); every 20th request sends the one before again (a retry: answered from the receipts). At most 256
 * in flight. Counted as the agents' progress is.
 */
async function steadyReports(rate) {
  const counts = { recorded: 0, duplicate: 0, refused: 0, lost: 0 };
  let errors = 0;
  let sent = 0;
  let inFlight = 0;
  let previous;
  const send = async (report) => {
    inFlight++;
    try {
      const response = await fetch(`${url}/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${report.token}`, 'content-type': 'application/json' }, body: report.body, signal: stop.signal });
      const body = await response.json();
      if (response.status === 200 && response.headers.get('idempotent-replayed') === 'true') counts.duplicate++;
      else if (response.status === 200) counts[body.status === 'recorded' ? 'recorded' : 'duplicate']++;
      else if (response.status < 500) counts.refused++;
      else errors++;
    } catch (error) {
      if (!stop.signal.aborted) errors++;
    } finally {
      inFlight--;
      progress = { rollout: 'HP-BENCH', reports: { ...counts }, errors };
    }
  };
  const next = () => {
    if (sent % 20 === 19 && previous !== undefined) return previous;
    const n = sent - Math.floor(sent / 20);
    const agent = fleet.agents[n % fleet.agents.length];
    const kind = n < fleet.agents.length ? { kind: 'applied' } : { kind: 'health', healthy: true };
    return (previous = { token: agent.token, body: JSON.stringify({ ...kind, id: randomUUID(), device: agent.device, patch: fleet.patch }) });
  };
  const begun = performance.now();
  while (!stop.signal.aborted) {
    await new Promise((ok) => setTimeout(ok, 10));
    const due = Math.floor(((performance.now() - begun) / 1000) * rate);
    while (sent < due && inFlight < 256) {
      void send(next());
      sent++;
    }
  }
}
agents.catch((error) => {
  console.error(`soak: the agents stopped: ${error.message}`);
  stop.abort();
});

// A new hotpatch every --release-s at the service's time (GET /healthz), on the devices' baseline, once the devices
// are enrolled and the agents planned the first (with --plan-at-start, from the start, while the devices enrol).
// Rollouts overlap: stalled applies keep one open for long.
let releases = 0;
let releasing = Promise.resolve();
const releaser = fleet === undefined ? setInterval(() => (releasing = release()), releaseMs) : undefined;
async function release() {
  try {
    if (progress?.rollout === undefined && !args['plan-at-start']) return;
    const time = (await (await fetch(`${url}/healthz`)).json()).time;
    const response = await fetch(`${url}/v1/rollouts`, { method: 'POST', headers: operator, body: JSON.stringify({ id: `HP-soak-${++releases}`, kind: 'hotpatch', releasedAt: time, baseline: 'B-2026-12', liveRevert: true }) });
    if (response.status !== 201) console.error(`soak: release ${releases}: ${response.status} ${await response.text()}`);
  } catch (error) {
    console.error(`soak: release ${releases}: ${error.message}`);
  }
}

const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
const samples = [];
let last = { at: Date.now(), reports: 0 };
const print = (line) => (args.json ? undefined : console.log(line));
print(`soak: ${minutes} min, ${devices} devices, ${args.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${fleet === undefined ? `--speed ${speed}, a release every ${releaseMs / 1000} s` : `${steadyRate} reports/s on one rollout`}; ${cpus().length} × ${cpus()[0]?.model}, ${mb(totalmem())} MiB, Node ${process.version}`);
print('   t(s)   RSS(MiB)  heap(MiB)  after GC  reports/s  reports  agents: recorded duplicate refused lost errors  5xx');
while (Date.now() - started < minutes * 60_000 && !stop.signal.aborted) {
  await new Promise((ok) => setTimeout(ok, Math.min(sampleMs, minutes * 60_000 - (Date.now() - started))));
  const m = await metrics();
  const heapAfterGc = await server.heapAfterGc();
  const now = Date.now();
  const sample = { t: Math.round((now - started) / 1000), rss: m.rss, heap: m.heap, heapAfterGc, reportsPerS: (m.reports - last.reports) / ((now - last.at) / 1000), reports: m.reports, http5xx: m.http5xx, agents: progress ? { ...progress.reports, errors: progress.errors } : undefined };
  last = { at: now, reports: m.reports };
  samples.push(sample);
  const a = sample.agents ?? { recorded: 0, duplicate: 0, refused: 0, lost: 0, errors: 0 };
  print(`${String(sample.t).padStart(7)} ${mb(m.rss).padStart(10)} ${mb(m.heap).padStart(10)} ${mb(heapAfterGc).padStart(9)} ${sample.reportsPerS.toFixed(1).padStart(10)} ${String(m.reports).padStart(8)}          ${String(a.recorded).padStart(8)} ${String(a.duplicate).padStart(9)} ${String(a.refused).padStart(7)} ${String(a.lost).padStart(4)} ${String(a.errors).padStart(6)} ${String(m.http5xx).padStart(4)}`);
}

clearInterval(releaser);
await releasing; // the one under way, if any, before the server stops
stop.abort();
await agents.catch(() => undefined);
const exitCode = await server.stop();
let verified;
try {
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'verify', '--store', store, '--key', `${key}.pub`, '--json'], { maxBuffer: 64 * 2 ** 20 });
  verified = JSON.parse(stdout);
} catch (error) {
  verified = { ok: false, error: error.stderr || error.message, ...(error.stdout ? JSON.parse(error.stdout) : {}) };
}
// The same log in a fresh process (restored from the checkpoint the stop saved, caught up): what holding this log's
// fleet costs, without what the soaked process gathered on the way (its receipts, bounded; anything that leaks).
let freshHeapAfterGc;
if (exitCode === 0) {
  const fresh = await serve({ first: false });
  for (let ready = false; !ready; ) {
    ready = (await fetch(`${fresh.url}/readyz`)).status === 200;
    if (!ready) await new Promise((ok) => setTimeout(ok, 200));
  }
  freshHeapAfterGc = await fresh.heapAfterGc();
  await fresh.stop();
}
const afterWarmup = samples.find((s) => s.t * 1000 >= warmupMs) ?? samples[0];
const end = samples.at(-1);
const steady = samples.filter((s) => s.t * 1000 > warmupMs);
const floor = (window) => (window.length ? Number(mb(Math.min(...window.map((s) => s.heap)))) : undefined);
const summary = {
  minutes,
  devices,
  store: args.store === 'sqlite' ? 'sqlite' : 'postgres',
  releases,
  reports: end?.reports ?? 0,
  reportsPerS: steady.length ? steady.reduce((n, s) => n + s.reportsPerS, 0) / steady.length : undefined,
  heapAfterWarmupMiB: afterWarmup && Number(mb(afterWarmup.heap)),
  heapAtEndMiB: end && Number(mb(end.heap)),
  heapChange: afterWarmup && end ? (end.heap - afterWarmup.heap) / afterWarmup.heap : undefined,
  // One sample falls anywhere on the collector's saw-tooth: the floor (the least heap) of the first and of the last
  // third of the samples after warm-up says more of a trend.
  heapFloorFirstThirdMiB: floor(steady.slice(0, Math.ceil(steady.length / 3))),
  heapFloorLastThirdMiB: floor(steady.slice(-Math.ceil(steady.length / 3))),
  // After a full collection (the probe's): what the process holds.
  heapAfterGcAfterWarmupMiB: afterWarmup && Number(mb(afterWarmup.heapAfterGc)),
  heapAfterGcAtEndMiB: end && Number(mb(end.heapAfterGc)),
  heapAfterGcChange: afterWarmup && end ? (end.heapAfterGc - afterWarmup.heapAfterGc) / afterWarmup.heapAfterGc : undefined,
  freshHeapAfterGcMiB: freshHeapAfterGc && Number(mb(freshHeapAfterGc)),
  rssAfterWarmupMiB: afterWarmup && Number(mb(afterWarmup.rss)),
  rssAtEndMiB: end && Number(mb(end.rss)),
  errors: { agents: progress?.errors ?? 0, lost: progress?.reports.lost ?? 0, refused: progress?.reports.refused ?? 0, http5xx: end?.http5xx ?? 0 },
  serveExit: exitCode,
  verified: verified.ok === true,
  events: verified.events,
};
if (args.json) console.log(JSON.stringify({ summary, samples }, null, 2));
else {
  console.log(`soak: ${summary.reports} reports in ${minutes} min (${summary.reportsPerS?.toFixed(1)}/s after warm-up), ${releases} releases; heap ${summary.heapAfterWarmupMiB} MiB after warm-up (${warmupMs / 1000} s) → ${summary.heapAtEndMiB} MiB at the end (${((summary.heapChange ?? 0) * 100).toFixed(1)}%), its floor ${summary.heapFloorFirstThirdMiB} MiB in the first third after warm-up → ${summary.heapFloorLastThirdMiB} MiB in the last; RSS ${summary.rssAfterWarmupMiB} → ${summary.rssAtEndMiB} MiB`);
  console.log(`soak: heap after a full collection ${summary.heapAfterGcAfterWarmupMiB} MiB after warm-up → ${summary.heapAfterGcAtEndMiB} MiB at the end (${((summary.heapAfterGcChange ?? 0) * 100).toFixed(1)}%); the same log in a fresh process, caught up: ${summary.freshHeapAfterGcMiB ?? '(not started: serve did not exit 0)'} MiB`);
  console.log(`soak: errors: agents ${summary.errors.agents}, reports lost ${summary.errors.lost} (those due when the agents stopped count as lost), refused ${summary.errors.refused}, 5xx ${summary.errors.http5xx}; serve exited ${exitCode}; the log ${summary.verified ? 'verifies' : 'does NOT verify'} (${summary.events} events, seals checked)`);
  if (!summary.verified) console.log(JSON.stringify(verified).slice(0, 2000));
}
if (fleet !== undefined) await fleet.dispose();
else if (args.store !== 'sqlite') {
  const pg = (await import(join(root, 'packages/store-postgres/node_modules/pg/lib/index.js'))).default;
  const client = new pg.Client({ connectionString: args.store });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}
if (args.keep) console.log(`soak: kept ${scratch}`);
else rmSync(scratch, { recursive: true, force: true });
process.exitCode = summary.verified && exitCode === 0 ? 0 : 1;
