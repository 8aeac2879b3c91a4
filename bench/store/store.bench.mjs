#!/usr/bin/env node
/**
 * `pnpm bench:store`: our event stores against Emmett's, side by side, on the same events in one run.
 *
 * Stores: hotpatch in-memory, hotpatch SQLite, hotpatch PostgreSQL (when packages/store-postgres is built),
 * Emmett SQLite and Emmett PostgreSQL. Each store gets a fresh database (a temporary SQLite file, a fresh
 * PostgreSQL schema for ours, a fresh PostgreSQL database for Emmett's), created and dropped here.
 *
 * Measurements, the same for every store, on the same pre-built events:
 *   - append, batches of 1: one writer, latency of every call (p50/p99) and throughput;
 *   - append, batches of 100 and of 1,000: appends go round-robin over a pool of 10,000 streams; PostgreSQL
 *     stores use 8 concurrent writers (each its own store instance, so its own pool), on disjoint streams;
 *     SQLite and in-memory use one writer (SQLite has one writer at a time; both stores serialize);
 *   - readAll: every event the store holds (all of the above plus warm-up), read in pages, in global order.
 * Every timed run is preceded by a warm-up of the same shape on other streams. Ours and Emmett's store of one engine
 * are open side by side and take turns measurement by measurement (the machine is shared and its load moves), on
 * events built for that measurement; each engine's floors (bare commits, bare inserts) are measured just before.
 *
 * Flags: --json (one JSON object on stdout), --quick (small counts: a smoke run), --only <name>[,<name>…]
 * (memory, sqlite, postgres, emmett-sqlite, emmett-postgres; may be repeated), --rounds N (each append
 * measurement N times on fresh streams, ours and Emmett's taking turns, the one that goes first alternating; the
 * report gives each store's median and every round's figures and ratio: on a shared machine one round's ratio
 * moves ±25%).
 * PostgreSQL: env HOTPATCH_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres.
 * Progress goes to stderr; the report (or the JSON) to stdout.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { asJson, log, median, PG_URL, PG_WRITERS, PHASES, quick, READ_PAGE, ROUNDS, selected, STREAM_POOL, trace } from './lib/config.mjs';
import { jsonParseFloor, measureFloors } from './lib/floors.mjs';
import { pgSettings } from './lib/pg-admin.mjs';
import { BOUNDS, DOES, fmt, NOTES, render, round, targets } from './lib/report.mjs';
import { STORES } from './lib/stores.mjs';
import { buildWorkload } from './lib/workload.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Running a workload

/** Splits the appends among writers by stream, so that writers never touch the same stream. */
function shard(appends, writers) {
  const parts = Array.from({ length: writers }, () => []);
  for (const a of appends) parts[a.slot % writers].push(a);
  return parts;
}

/** Runs the appends with the given writers; returns wall time and each call's latency (ms). */
async function runAppends(writers, appends) {
  const latencies = new Float64Array(appends.length);
  let n = 0;
  const parts = shard(appends, writers.length);
  const start = performance.now();
  await Promise.all(
    parts.map(async (part, w) => {
      const append = writers[w];
      for (const a of part) {
        const t = performance.now();
        await append(a);
        latencies[n++] = performance.now() - t;
      }
    }),
  );
  return { seconds: (performance.now() - start) / 1000, latencies: latencies.sort() };
}

const quantile = (sorted, q) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main() {
  const chosen = STORES.filter((s) => selected(s.name));
  const engines = new Set(chosen.map((s) => s.engine));
  const report = {
    machine: { node: process.version, cores: os.cpus().length, loadAverageAtStart: os.loadavg().map((x) => round(x, 2)) },
    quick,
    postgresUrl: PG_URL.replace(/\/\/[^@/]*@/, '//…@'),
    config: { streamPool: STREAM_POOL, pgWriters: PG_WRITERS, readPage: READ_PAGE, phases: [] },
    stores: {},
    results: {},
    floors: {},
    targets: [],
  };

  let settings;
  if (engines.has('postgres')) {
    try {
      settings = await pgSettings();
      report.postgres = settings;
    } catch (error) {
      log(`PostgreSQL at ${report.postgresUrl} unreachable: ${error.message}`);
    }
  }

  for (const p of PHASES) {
    const appends = Math.ceil(p.events / p.batch);
    report.config.phases.push({ key: p.key, batch: p.batch, events: appends * p.batch, appends, streamPool: p.streams, streamsTouched: Math.min(p.streams, appends), warmupAppends: p.warmup });
  }
  report.floors.jsonParsePerSec = jsonParseFloor();
  const expectedTotal = ROUNDS * PHASES.reduce((n, p) => n + (p.warmup + Math.ceil(p.events / p.batch)) * p.batch, 0);
  report.config.rounds = ROUNDS;

  // Engine by engine: ours and Emmett's are open side by side, each on its fresh database, and take turns phase by
  // phase, so that both see the same machine (shared, noisy) at nearly the same time. The in-memory store goes
  // last: it keeps every event in this process's heap, and measured first it left the SQLite store that followed
  // 30% slower (120,532 against 171,423 events/s in batches of 1,000, the same run otherwise), Emmett's less so
  // (its work is on sqlite3's threads), which is no store's doing.
  for (const engine of ['sqlite', 'postgres', 'memory']) {
    const open = [];
    for (const spec of chosen.filter((s) => s.engine === engine)) {
      const entry = { label: spec.label, engine: spec.engine, side: spec.side };
      report.stores[spec.name] = entry;
      const missing = spec.unavailable?.() ?? (spec.engine === 'postgres' && !settings ? 'PostgreSQL unreachable' : undefined);
      if (missing) {
        entry.unavailable = missing;
        log(`${spec.label}: ${missing}`);
        continue;
      }
      log(`${spec.label}: fresh database…`);
      try {
        const handle = await spec.open(settings);
        entry.durability = handle.durability;
        open.push({ spec, entry, handle });
      } catch (error) {
        entry.unavailable = `failed to open: ${error.message}`;
        log(`${spec.label}: ${entry.unavailable}`);
      }
    }
    if (open.length > 0 && (engine !== 'postgres' || settings)) {
      log(`${engine}: floors…`);
      Object.assign(report.floors, await measureFloors(engine));
    }
    const step = async (run, fn) => {
      if (run.entry.failed) return;
      try {
        await fn();
      } catch (error) {
        run.entry.failed = error.stack ?? String(error);
        log(`${run.spec.label}: FAILED: ${run.entry.failed}`);
      }
    };
    try {
      for (const phase of PHASES) {
        const rounds = new Map(open.map((run) => [run, { rates: [], latencies: [], seconds: 0, writers: 0 }]));
        for (let k = 0; k < ROUNDS; k++) {
          // Built for this engine, this phase and this round only (a smaller heap for everyone), and the same for
          // both stores; the store that goes first alternates from round to round.
          const tag = ROUNDS > 1 ? `r${k}-` : '';
          const warmup = buildWorkload(`${tag}warm${phase.batch}`, phase.warmup * phase.batch, phase.batch, Math.max(phase.warmup, 1));
          const workload = buildWorkload(`${tag}b${phase.batch}`, phase.events, phase.batch, phase.streams);
          for (const run of k % 2 === 0 ? open : [...open].reverse()) {
            await step(run, async () => {
              const { spec, handle } = run;
              const writers = phase.batch === 1 ? handle.writers.slice(0, 1) : handle.writers;
              await runAppends(writers, warmup.appends);
              trace(`start ${spec.name} ${phase.key}${ROUNDS > 1 ? ` round ${k + 1}` : ''}`);
              const { seconds, latencies } = await runAppends(writers, workload.appends);
              trace(`end ${spec.name} ${phase.key}${ROUNDS > 1 ? ` round ${k + 1}` : ''}`);
              const r = rounds.get(run);
              r.rates.push(Math.round(workload.events / seconds));
              for (const l of latencies) r.latencies.push(l);
              r.seconds += seconds;
              r.writers = writers.length;
              r.events = workload.events;
              log(`${spec.label}: batches of ${phase.batch}${ROUNDS > 1 ? `, round ${k + 1}` : ''}: ${fmt(r.rates.at(-1))} events/s (${r.writers} writer${r.writers > 1 ? 's' : ''})`);
            });
          }
        }
        for (const run of open) {
          const r = rounds.get(run);
          if (run.entry.failed || r.rates.length === 0) continue;
          (report.results[phase.key] ??= {})[run.spec.name] = {
            events: r.events,
            writers: r.writers,
            seconds: round(r.seconds, 3),
            eventsPerSec: median(r.rates),
            ...(ROUNDS > 1 ? { rounds: r.rates } : {}),
            p50Ms: round(quantile(r.latencies.sort((x, y) => x - y), 0.5), 3),
            p99Ms: round(quantile(r.latencies, 0.99), 3),
          };
        }
      }
      for (const run of open) {
        await step(run, async () => {
          const { spec, handle } = run;
          await handle.beforeRead?.(expectedTotal);
          await handle.readAll(1); // warm-up: one page
          trace(`start ${spec.name} readAll`);
          const t = performance.now();
          const count = await handle.readAll();
          const seconds = (performance.now() - t) / 1000;
          trace(`end ${spec.name} readAll`);
          (report.results.readAll ??= {})[spec.name] = { events: count, seconds: round(seconds, 3), eventsPerSec: Math.round(count / seconds), expected: expectedTotal };
          log(`${spec.label}: readAll ${fmt(count)} events: ${fmt(Math.round(count / seconds))} events/s${count === expectedTotal ? '' : ` (expected ${fmt(expectedTotal)}!)`}`);
        });
      }
    } finally {
      for (const run of open) await run.handle.close().catch((error) => log(`${run.spec.label}: close: ${error.message}`));
    }
  }

  report.machine.loadAverageAtEnd = os.loadavg().map((x) => round(x, 2));
  report.targets = targets(report);
  report.bounds = BOUNDS;
  report.notes = NOTES;
  report.does = DOES;
  if (asJson) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(render(report));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
