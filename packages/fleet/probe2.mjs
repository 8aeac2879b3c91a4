// Measures saving and restoring a large fleet projection through the SQLite store (not part of the suite).
import { FleetProjection, simulate, DEFAULT_POLICY } from '@hotpatch/fleet';
import { createInMemoryEventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { rmSync } from 'node:fs';
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
rmSync('/tmp/proj.db', { force: true });
const store = openSqliteEventStore({ path: '/tmp/proj.db' });
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
