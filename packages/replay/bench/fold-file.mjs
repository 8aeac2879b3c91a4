// (d1) alone, for instruction counts and CPU time: `node packages/replay/bench/fold-file.mjs <file> [--events N]
// [--devices D] [--rounds R]` writes the bench's generated timeline (seed 1) to <file> when it does not exist, then
// folds it in this thread (foldFile, parallel: false) R times, each round's CPU and wall seconds on a line, then issue
// 21's target (≥ 400,000 events per CPU second, the best round's and the median's) as met or not met. Under
// `valgrind --tool=callgrind node --single-threaded …` the instruction count is what a loaded machine cannot change.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { writeTimeline } from '@hotpatch/store';
import { foldFile } from '@hotpatch/replay';
import { generateTimeline } from './generate.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { events: { type: 'string', default: '150000' }, devices: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '1' } } });
const [file] = positionals;
if (file === undefined) throw new Error('usage: fold-file.mjs <file> [--events N] [--devices D] [--rounds R]');
if (!existsSync(file)) await writeTimeline(file, generateTimeline({ events: Number(values.events), devices: Number(values.devices), seed: 1 }));
const TARGET = 400_000;
const rates = [];
for (let round = 0; round < Number(values.rounds); round++) {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  const folded = await foldFile(file, { parallel: false });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  const used = process.cpuUsage(c);
  const cpu = (used.user + used.system) / 1e6;
  if (folded.problems.length || folded.lineProblems.length) throw new Error(`${file} has problems`);
  rates.push(Math.round(folded.lines / cpu));
  console.log(JSON.stringify({ round, lines: folded.lines, cpuSeconds: cpu, wallSeconds: wall, eventsPerCpuSecond: rates.at(-1) }));
}
const best = Math.max(...rates);
const median = [...rates].sort((a, b) => a - b)[(rates.length - 1) >> 1];
const verdict = (rate) => `${rate.toLocaleString('en-US')} (${rate >= TARGET ? 'met' : 'NOT met'}, ${(rate / TARGET).toFixed(2)}× the target)`;
console.log(`target: JSONL → states in one thread ≥ ${TARGET.toLocaleString('en-US')} events per CPU second: best round ${verdict(best)}, median ${verdict(median)}; load ${os.loadavg()[0].toFixed(2)}`);
