// What a tenant's view costs on a log other tenants fill (docs/performance.md#tenants): a SQLite log of N events of
// the default tenant and 1,000 of tenant "small", read whole through each view (readAll in pages, filtered in
// JavaScript), beside what an index range on the stream name would take for the small tenant.
// Usage: node packages/cli/bench/tenant-scan.bench.mjs PATH.db [N=500000] (built first: npx tsc -b packages/cli).
import { createRequire } from 'node:module';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { readLog, scopeStore } from '@hotpatch/store';
import { generateTimeline } from '../../replay/bench/generate.mjs';

const [path, count = '500000'] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: tenant-scan.bench.mjs PATH.db [N]');
const N = Number(count);
const ms = (t) => (Number(process.hrtime.bigint() - t) / 1e6).toFixed(0);
const store = openSqliteEventStore({ path, durability: 'normal' });
if ((await store.readAll({ limit: 1 })).length === 0) {
  const write = (target, events) => store.batch(async () => {
    for (const e of events) await target.appendToStream(e.stream, [{ id: e.id, type: e.type, time: e.time, data: e.data }]);
  });
  await write(store, generateTimeline({ events: N, devices: Math.max(10, N / 50), seed: 1 }));
  await write(scopeStore(store, 'small'), generateTimeline({ events: 1000, devices: 20, seed: 2 }));
}
for (const [name, view] of [['the whole log, no view', store], ['tenant "small"’s view', scopeStore(store, 'small')], ['the default tenant’s view', scopeStore(store, undefined)]]) {
  const t = process.hrtime.bigint();
  let n = 0;
  for await (const _ of readLog(view)) n++;
  console.log(`${name}: ${n} events in ${ms(t)} ms`);
}
await store.close();
// The small tenant's events by an index range on the stream name (events_stream_version), pages of 100.
const Database = createRequire(createRequire(import.meta.url).resolve('@hotpatch/store-sqlite'))('better-sqlite3');
const db = new Database(path, { readonly: true });
const page = db.prepare('SELECT position FROM events WHERE stream >= ? AND stream < ? AND position >= ? ORDER BY position LIMIT 100');
const t = process.hrtime.bigint();
let n = 0;
for (let from = 1; ; ) {
  const rows = page.all('tenant/small/', 'tenant/small0', from);
  if (rows.length === 0) break;
  n += rows.length;
  from = rows[rows.length - 1].position + 1;
}
console.log(`tenant "small" by an index range on the stream name: ${n} events in ${ms(t)} ms`);
db.close();
