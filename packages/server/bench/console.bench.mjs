// What the live console's data costs: GET /v1/console/data on a store `hotpatch simulate` wrote, for the latest
// rollout and for the fleet. The first request reads the tenant's log whole into a view (cold); the next ones read
// what came since (nothing here) and build the data from the view (a refresh): their median is printed, and the
// answer's size. A benchmark, not a test.
// node --expose-gc packages/server/bench/console.bench.mjs --store PATH.db [--runs 5]   (after `pnpm build`; the store is
// made with e.g. `hotpatch simulate --devices 10000 --months 3 --seed 1 --store sqlite:PATH.db`, and only read)
import { parseArgs } from 'node:util';
import { buildServer, issueToken } from '../dist/index.js';
import { openSqliteEventStore } from '../../store-sqlite/dist/index.js';

const { values } = parseArgs({ options: { store: { type: 'string' }, runs: { type: 'string', default: '5' } } });
if (values.store === undefined) {
  console.error('usage: node packages/server/bench/console.bench.mjs --store PATH.db [--runs 5]');
  process.exit(2);
}
const store = openSqliteEventStore({ path: values.store });
const app = await buildServer({ store, logger: false, tickIntervalMs: 0 });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
// The token is written to the store: the bench writes one event, nothing else.
const { token } = await issueToken(store, { role: 'auditor' });
try {
  const events = (await store.readAll({ fromPosition: 1, limit: Number.MAX_SAFE_INTEGER })).length;
  const heap = () => {
    globalThis.gc?.();
    return process.memoryUsage().heapUsed;
  };
  if (globalThis.gc) console.log(`heap before any view: ${(heap() / 1024 / 1024).toFixed(0)} MB (the service, its projection caught up)`);
  for (const query of ['', '?fleet=true']) {
    const times = [];
    let bytes = 0;
    let title = '';
    let cold = 0;
    for (let i = 0; i <= Number(values.runs); i++) {
      const started = performance.now();
      const response = await fetch(`${url}/v1/console/data${query}`, { headers: { authorization: `Bearer ${token}` } });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${response.status}: ${text.slice(0, 300)}`);
      if (i > 0) times.push(performance.now() - started);
      else cold = performance.now() - started;
      bytes = text.length;
      title = JSON.parse(text).data?.title ?? '(no data)';
    }
    times.sort((a, b) => a - b);
    const s = (ms) => (ms / 1000).toFixed(2);
    console.log(`${title} over ${events} events: first ${s(cold)} s; a refresh: median ${s(times[times.length >> 1])} s (min ${s(times[0])}, max ${s(times.at(-1))}); answer ${(bytes / 1024 / 1024).toFixed(2)} MB; heap ${globalThis.gc ? `${(heap() / 1024 / 1024).toFixed(0)} MB with the views so far` : '(run with --expose-gc)'}`);
  }
} finally {
  await app.close();
  await store.close();
}
