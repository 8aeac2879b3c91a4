// A writer process for the durability tests: appends batches in a loop to a SQLite event store and prints one
// line per acknowledged append ("ack <stream> <version> <batchId> <size>"). Run on the built package.
// Usage: [HOTPATCH_DURABILITY=full|group|normal] node writer.mjs <db> <seed> <streams> [maxAppends]
import { openSqliteEventStore } from '../dist/index.js';
import { seededRandom } from '@hotpatch/core';
import { v4 as uuidv4 } from 'uuid';

const [path, seedArg, streamsArg, maxArg] = process.argv.slice(2);
const random = seededRandom(Number(seedArg));
const streams = Number(streamsArg);
const max = maxArg === undefined ? Number.POSITIVE_INFINITY : Number(maxArg);
// HOTPATCH_START_AT (ms since the epoch): open the store at that moment, so that several writers race for a new file.
const startAt = Number(process.env.HOTPATCH_START_AT ?? 0);
while (Date.now() < startAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
// HOTPATCH_DURABILITY: the store's durability option ('full' when unset).
const store = openSqliteEventStore({ path, durability: process.env.HOTPATCH_DURABILITY ?? 'full' });
const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const time = () => new Date().toISOString();

for (let n = 0; n < max; n++) {
  const stream = `device/crash-${random.int(0, streams - 1)}`;
  const batch = uuidv4();
  const size = random.int(1, 40);
  const meta = { batch, size };
  for (;;) {
    const version = await store.streamVersion(stream);
    const events = [];
    if (version === 0) events.push({ id: uuidv4(), type: 'DeviceEnrolled', time: time(), data: { ...profile, ring: 'pilot', baseline: 'B1' }, meta });
    while (events.length < size) {
      const eligible = random.chance(0.5);
      events.push({ id: uuidv4(), type: 'EligibilityAssessed', time: time(), data: { eligible, reasons: eligible ? [] : ['vbs: off'] }, meta });
    }
    try {
      const r = await store.appendToStream(stream, events, { expectedVersion: version === 0 ? 'no_stream' : version });
      process.stdout.write(`ack ${stream} ${r.nextExpectedVersion} ${batch} ${size}\n`);
      break;
    } catch (error) {
      if (error?.code !== 'WRONG_EXPECTED_VERSION') throw error;
    }
  }
}
await store.close();
