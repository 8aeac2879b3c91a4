import { deviceLifecycle } from '@hotpatch/core';
import { generateTimeline } from './bench/generate.mjs';
const events = generateTimeline({ events: Number(process.argv[2] ?? 1e6), devices: Number(process.argv[3] ?? 1e4), seed: 1 });
function foldEvolve(list) {
  const states = new Map();
  for (const e of list) states.set(e.stream, deviceLifecycle.evolve(states.get(e.stream) ?? deviceLifecycle.initial, e));
  return states;
}
const rates = [];
for (let i = 0; i < 7; i++) {
  let t = performance.now(); foldEvolve(events); const a = performance.now() - t;
  rates.push(events.length / a * 1000);
}
rates.sort((a, b) => a - b);
console.log(`evolve median ${rates[3].toFixed(0)}/s best ${rates[6].toFixed(0)}/s`);
