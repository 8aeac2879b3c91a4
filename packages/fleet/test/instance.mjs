// An orchestrator in a process of its own over a SQLite file, for the concurrency test: runs the BUILT packages.
// Usage: node instance.mjs <file> <now> <policy JSON> <name> (recorded as meta.instance on what it writes). It opens the store, reads the log, prints "ready"; then, for
// each line of standard input, prints one line: for a JSON array of calls ({kind:'tick'} or {kind:'report', report}),
// made all at once, their answers ([{ok:true, value} | {ok:false, error}]); for "projection", the projection after
// reading the log again (its serialised parts). Standard input closed: it closes the store and exits.
import { createInterface } from 'node:readline';
import { createOrchestrator, simulatedClock } from '../dist/index.js';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';

const [path, now, policy, instance] = process.argv.slice(2);
const store = openSqliteEventStore({ path, durability: 'normal' });
const o = createOrchestrator({ store, clock: simulatedClock(now), policy: JSON.parse(policy), meta: { instance } });
await o.sync();
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'projection') {
    await o.sync();
    process.stdout.write(`${JSON.stringify(o.projection.serialize())}\n`);
    continue;
  }
  const settled = await Promise.allSettled(JSON.parse(line).map((call) => (call.kind === 'tick' ? o.tick() : o.report(call.report))));
  process.stdout.write(`${JSON.stringify(settled.map((s) => (s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, error: String(s.reason) })))}\n`);
}
await store.close();
