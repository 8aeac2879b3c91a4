// Model-checking benchmark: the default scenario explored by our checker and by xstate/graph's adjacency map,
// same machine, same events, side by side in one run. Usage: node bench/check.bench.mjs [--json] [--runs N]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { getAdjacencyMap } from 'xstate/graph';
import { deviceMachine } from '@hotpatch/core';
import { check, deviceCheckModel, DEFAULT_SCENARIO, scenarioEvents, stateFingerprint } from '../dist/index.js';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = process.hrtime.bigint();
  const result = fn();
  return { result, seconds: Number(process.hrtime.bigint() - t) / 1e9 };
};

const events = scenarioEvents(DEFAULT_SCENARIO);
// Warm up both (JIT), then time each `runs` times.
check(deviceCheckModel(DEFAULT_SCENARIO), {});
getAdjacencyMap(deviceMachine, { events });

const ours = [];
let ourResult;
for (let i = 0; i < runs; i++) {
  const { result, seconds } = time(() => check(deviceCheckModel(DEFAULT_SCENARIO)));
  ourResult = result;
  ours.push(seconds);
}
const theirs = [];
let theirStates = 0;
for (let i = 0; i < runs; i++) {
  const { result, seconds } = time(() => getAdjacencyMap(deviceMachine, { events }));
  theirStates = new Set(Object.values(result).map((e) => stateFingerprint(e.state))).size;
  theirs.push(seconds);
}

const ourSeconds = median(ours);
const theirSeconds = median(theirs);
const figures = {
  node: process.version,
  cpu: os.cpus()[0]?.model,
  scenario: DEFAULT_SCENARIO.name,
  eventsPerState: events.length,
  runs,
  hotpatchCheck: { distinctStates: ourResult.stats.distinctStates, transitions: ourResult.stats.transitions, seconds: ourSeconds, statesPerSecond: ourResult.stats.distinctStates / ourSeconds, alsoChecks: 'invariants, deadlocks, recoverability, coverage' },
  xstateGraph: { distinctStates: theirStates, seconds: theirSeconds, statesPerSecond: theirStates / theirSeconds, checks: 'reachability only' },
  speedup: theirSeconds / ourSeconds,
  agree: theirStates === ourResult.stats.distinctStates,
  targets: { speedupAtLeast5x: theirSeconds / ourSeconds >= 5, defaultScenarioUnder10s: ourSeconds < 10 },
};
if (values.json) console.log(JSON.stringify(figures, null, 2));
else {
  const row = (name, states, seconds) => `${name.padEnd(34)} ${String(states).padStart(9)} ${seconds.toFixed(3).padStart(9)} s ${Math.round(states / seconds).toLocaleString('en-US').padStart(12)} states/s`;
  console.log(`model checking — scenario ${figures.scenario} (${figures.eventsPerState} events per state), median of ${runs} runs, node ${figures.node}, ${figures.cpu}`);
  console.log(`${'explorer'.padEnd(34)} ${'states'.padStart(9)} ${'time'.padStart(11)} ${'rate'.padStart(21)}`);
  console.log(row('hotpatch check (with invariants)', figures.hotpatchCheck.distinctStates, ourSeconds));
  console.log(row('xstate/graph getAdjacencyMap', theirStates, theirSeconds));
  console.log(`ratio: hotpatch check is ${figures.speedup.toFixed(1)}× faster; distinct states ${figures.agree ? 'agree' : 'DISAGREE'}`);
  console.log(`targets: ≥ 5× xstate/graph: ${figures.targets.speedupAtLeast5x ? 'met' : 'NOT met'}; default scenario under 10 s: ${figures.targets.defaultScenarioUnder10s ? 'met' : 'NOT met'}`);
}
if (!figures.agree) process.exitCode = 1;
