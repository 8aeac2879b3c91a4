// The fleet projection over a simulated log: applied in place (the live projection, what the orchestrator runs) and
// as immutable snapshots with patches (immer, projection/timeline.ts), side by side in one run.
// Usage: node packages/fleet/bench/projection.bench.mjs [--devices 200,5000] [--runs 3] [--json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FleetProjection, projectionSteps } from '../dist/index.js';

const { values } = parseArgs({ options: { devices: { type: 'string', default: '200,5000' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean' } } });
const cli = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const dir = mkdtempSync(join(os.tmpdir(), 'hotpatch-projection-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
try {
  for (const devices of values.devices.split(',').map(Number)) {
    const db = join(dir, `${devices}.db`);
    execFileSync(process.execPath, [cli, 'simulate', '--devices', String(devices), '--months', '1', '--seed', '1', '--store', `sqlite:${db}`], { stdio: 'ignore' });
    const text = execFileSync(process.execPath, [cli, 'export', '--store', `sqlite:${db}`], { maxBuffer: 2 ** 30 }).toString();
    const events = text.trim().split('\n').map((l, i) => ({ ...JSON.parse(l), position: i + 1 }));
    const live = [];
    const timeline = [];
    const instants = [];
    for (let r = 0; r < Number(values.runs); r++) {
      let t = performance.now();
      const p = new FleetProjection();
      for (const e of events) p.apply(e);
      live.push(performance.now() - t);
      t = performance.now();
      for (const _ of projectionSteps(events));
      timeline.push(performance.now() - t);
      t = performance.now();
      for (const _ of projectionSteps(events, { per: 'instant' }));
      instants.push(performance.now() - t);
    }
    const rate = (ms) => Math.round((events.length / ms) * 1000);
    rows.push({ devices, events: events.length, liveEventsPerSecond: rate(median(live)), snapshotEventsPerSecond: rate(median(timeline)), instantSnapshotEventsPerSecond: rate(median(instants)), ratio: +(median(timeline) / median(live)).toFixed(1) });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (values.json) console.log(JSON.stringify({ node: process.version, cpu: os.cpus()[0]?.model, rows }));
else {
  console.log(`fleet projection, one simulated month (${os.cpus()[0]?.model}, Node ${process.version}), median of ${values.runs}:`);
  for (const r of rows) console.log(`  ${r.devices} devices, ${r.events} events: in place ${r.liveEventsPerSecond.toLocaleString('en')} events/s; snapshots with patches, one per event ${r.snapshotEventsPerSecond.toLocaleString('en')} events/s (${r.ratio}x the time), one per instant ${r.instantSnapshotEventsPerSecond.toLocaleString('en')} events/s`);
}
