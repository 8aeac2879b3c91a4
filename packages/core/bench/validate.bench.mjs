// Validation alone, as the JSONL replay path runs it on every line: the events of a timeline (parsed once, outside
// the timing) validated over and over until N. Usage: node bench/validate.bench.mjs <events.jsonl> [--events N] [--runs R]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as core from '@hotpatch/core';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { events: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' } } });
if (positionals.length !== 1) throw new Error('usage: validate.bench.mjs <events.jsonl> [--events N] [--runs R]');
const events = readFileSync(positionals[0], 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
const N = Number(values.events);

// Each way of validating an event whole (envelope and data) that the build offers.
const ways = [['validateEvent', (e) => core.validateEvent(e)]];
if (typeof core.checkEventSchema === 'function') ways.push(['checkEventSchema (compiled TypeBox)', (e) => core.checkEventSchema(e)]);

for (const [name, validate] of ways) {
  const rates = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const t = process.hrtime.bigint();
    let ok = 0;
    for (let i = 0, j = 0; i < N; i++, j = j + 1 === events.length ? 0 : j + 1) if (validate(events[j])) ok++;
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (ok !== N) throw new Error(`${name}: ${N - ok} events refused`);
    rates.push(N / s);
  }
  rates.sort((a, b) => a - b);
  console.log(`${name}: median ${(rates[rates.length >> 1] / 1e6).toFixed(2)}M events/s over ${values.runs} runs of ${N.toLocaleString('en-US')} (${events.length} distinct events)`);
}
