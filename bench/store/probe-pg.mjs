import { v7 as uuidv7 } from 'uuid';
import pg from 'pg';
import { createPostgresEventStore } from '../../packages/store-postgres/dist/index.js';
const PROFILE = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
let clock = 0;
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
function deviceEvent(first) {
  const time = new Date(T0 + 1_000 * clock++).toISOString();
  return first ? { id: uuidv7(), type: 'DeviceEnrolled', time, data: { ...PROFILE, ring: 'pilot', baseline: 'B1' } } : { id: uuidv7(), type: 'EligibilityAssessed', time, data: { eligible: true, reasons: [] } };
}
const url = 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `probe_${process.pid}`;
const writers = await Promise.all(Array.from({ length: 8 }, () => createPostgresEventStore({ connectionString: url, schema, max: 1 })));
const BATCHES = Number(process.argv[2] ?? 200), SIZE = Number(process.argv[3] ?? 1000);
const work = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: SIZE }, (_, i) => deviceEvent(i === 0)));
const t = performance.now();
await Promise.all(writers.map(async (w, k) => { for (let b = k; b < BATCHES; b += 8) await w.appendToStream(`device/p-${b}`, work[b]); }));
const s = (performance.now() - t) / 1000;
console.log(`${(BATCHES * SIZE / s).toFixed(0)} events/s`);
await Promise.all(writers.map((w) => w.close()));
const c = new pg.Client(url); await c.connect(); await c.query(`DROP SCHEMA ${schema} CASCADE`); await c.end();
