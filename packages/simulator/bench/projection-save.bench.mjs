// Saving and restoring a large fleet projection through the SQLite store: a projection of N × 100 devices a year
// in (the devices of a 100-device, 12-month simulation, copied N times), serialised in parts, saved, read back and
// restored. Not part of `pnpm bench` (3,500 copies need about 4 GB):
//   node --max-old-space-size=12000 packages/fleet/bench/projection-save.bench.mjs 3500
import { FleetProjection, simulate, DEFAULT_POLICY } from '@hotpatch/fleet';
import { createInMemoryEventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const copies = Number(process.argv[2] ?? 1000);
const small = createInMemoryEventStore();
await simulate({ devices: 100, months: 12, seed: 3, policy: DEFAULT_POLICY, store: small, arm: 'hotpatch' });
const log = await small.readAll();
const p = new FleetProjection();
let position = 0;
for (let k = 0; k < copies; k++) {
  // Every copy's devices; the rollouts once.
  for (const e of log) {
    if (k > 0 && !e.stream.startsWith('device/')) continue;
    position++;
    p.apply(e.stream.startsWith('device/') ? { ...e, stream: `${e.stream}-${k}`, position } : { ...e, position });
  }
}
console.log('devices', p.devices.size, 'heap MB', (process.memoryUsage().heapUsed / 1e6).toFixed(0));
let t = Date.now();
const parts = p.serialize();
const chars = parts.reduce((n, s) => n + s.length, 0);
console.log('serialise', Date.now() - t, 'ms', parts.length, 'parts', (chars / 1e6).toFixed(0), 'M chars', (chars / p.devices.size).toFixed(0), 'chars/device');
const path = join(tmpdir(), `hotpatch-projection-${process.pid}.db`);
const store = openSqliteEventStore({ path });
t = Date.now();
await store.saveProjection('big', p.position, parts);
console.log('save', Date.now() - t, 'ms');
t = Date.now();
const saved = await store.readProjection('big');
console.log('read', Date.now() - t, 'ms');
t = Date.now();
const q = new FleetProjection();
console.log('restore', q.restore(saved.parts), Date.now() - t, 'ms', q.devices.size, 'devices');
await store.close();
for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
