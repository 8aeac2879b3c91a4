#!/usr/bin/env node
/**
 * Group commit (`durability: 'group'`) against `synchronous=FULL` ('full') and NORMAL ('normal', the ceiling: no
 * flush at all, durability given up). W writers in one process, each appending one event at a time to a stream of its
 * own (a service's concurrent requests, each its own commit), on a real file in the temporary directory. Per mode:
 * appends per second, the event loop's utilisation (a FULL commit holds the loop for its flush), CPU per append; the
 * modes take turns, round after round, and the medians are printed with group's ratio to full.
 *
 *   node packages/store-sqlite/bench/group-commit.bench.mjs [--writers 32] [--appends 200] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openSqliteEventStore } from '../dist/index.js';

const { values: args } = parseArgs({ options: { writers: { type: 'string', default: '32' }, appends: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } } });
const writers = Number(args.writers);
const appends = Number(args.appends);
const scratch = mkdtempSync(join(tmpdir(), 'hotpatch-group-commit-'));
const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const time = '2026-01-05T08:00:00.000Z';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run(durability, round) {
  const path = join(scratch, `${durability}-${round}.db`);
  const store = openSqliteEventStore({ path, durability });
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const stream = `device/w${w}`;
      await store.appendToStream(stream, [{ type: 'DeviceEnrolled', time, data: { ...profile, ring: 'pilot', baseline: 'B1' } }]);
      for (let i = 0; i < appends; i++) await store.appendToStream(stream, [{ type: 'EligibilityAssessed', time, data: { eligible: true, reasons: [] } }]);
    }),
  );
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const loop = performance.eventLoopUtilization(elu).utilization;
  await store.close();
  const n = writers * (appends + 1);
  return { perSecond: (n / ms) * 1000, loop, cpuMicros: (used.user + used.system) / n };
}

console.log(`group commit — ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, ${new Date().toISOString()}, load ${loadavg()[0].toFixed(1)}; ${writers} writers × ${appends} single-event appends, ${args.rounds} rounds`);
const modes = ['full', 'group', 'normal'];
const results = Object.fromEntries(modes.map((m) => [m, []]));
for (let round = 0; round < Number(args.rounds); round++) {
  for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) results[mode].push(await run(mode, round));
}
rmSync(scratch, { recursive: true, force: true });
const rows = modes.map((m) => {
  const r = results[m];
  return [m, Math.round(median(r.map((x) => x.perSecond))), median(r.map((x) => x.loop)).toFixed(2), Math.round(median(r.map((x) => x.cpuMicros))), r.map((x) => Math.round(x.perSecond)).join(' / ')];
});
console.log(['durability', 'appends/s (median)', 'event loop busy', 'CPU µs/append', 'rounds'].join('  '));
for (const row of rows) console.log(row.join('  '));
console.log(`group ÷ full: ${(rows[1][1] / rows[0][1]).toFixed(2)}× appends/s, each still durable when answered`);
