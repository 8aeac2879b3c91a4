import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
const PROFILE = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
let clock = 0;
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
function deviceEvent(first) {
  const time = new Date(T0 + 1_000 * clock++).toISOString();
  return first
    ? { id: uuidv7(), type: 'DeviceEnrolled', time, data: { ...PROFILE, ring: 'pilot', baseline: 'B1' } }
    : { id: uuidv7(), type: 'EligibilityAssessed', time, data: { eligible: true, reasons: [] } };
}
const dir = mkdtempSync(join(tmpdir(), 'probe-'));
const store = openSqliteEventStore({ path: join(dir, 'e.db') });
const batches = [];
for (let b = 0; b < Number(process.argv[2] ?? 300); b++) batches.push(Array.from({ length: 1000 }, (_, i) => deviceEvent(i === 0)));
for (let b = 0; b < 5; b++) await store.appendToStream(`device/warm-${b}`, batches[b]);
const t = performance.now();
for (let b = 5; b < batches.length; b++) await store.appendToStream(`device/b-${b}`, batches[b]);
const s = (performance.now() - t) / 1000;
console.log(`${((batches.length - 5) * 1000 / s).toFixed(0)} events/s`);
store.close?.(); await store.close?.();
rmSync(dir, { recursive: true });
