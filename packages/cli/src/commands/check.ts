import { join, relative, resolve } from 'node:path';
import {
  check,
  DEFAULT_SCENARIO,
  deviceCheckModel,
  deviceStateInvariants,
  deviceTransitionInvariants,
  DEFAULT_ROLLOUT_SCENARIO,
  rolloutCheckModel,
  rolloutStateInvariants,
  rolloutTransitionInvariants,
  ringCheckEvents,
  ringCheckModel,
  ringStateInvariants,
  ringTransitionInvariants,
  formatPath,
  loadScenario,
  pathToTimeline,
  ScenarioError,
  timelineText,
  checkDeviceInvariants,
  deviceInvariant,
  InvariantError,
  loadInvariants,
  type CustomInvariant,
} from '@hotpatch/check';
import type { DeviceEventBody, DeviceState } from '@hotpatch/core';
import { CheckFailed, parse, positiveInt, UsageError, type CommandSpec } from '../args.js';
import { json } from '../format.js';
import { writeFileAtomically } from '@hotpatch/store';
import { checkPolicy } from './check-policy.js';
import { stoppableAtOnce } from '../signals.js';

export const checkCommand: CommandSpec = {
  name: 'check',
  summary: 'model-check the device lifecycle (or the rollout or ring lifecycle): every reachable state, invariants, deadlocks, coverage',
  usage: `hotpatch check [--machine device|rollout|ring] [--scenario file.json] [--invariants file.json] [--continue] [--max-depth N] [--max-states N] [--out DIR] [--json]
       hotpatch check --policy policy.json (--fleet rings.json | --ring-sizes pilot=20,broad=180) [--invariants file.json] [--tick-minutes M] [--apply-failures | --every-timing] [--max-states N] [--out DIR] [--json]

  Explores every state the device lifecycle can reach in a scenario (default: two baselines, five hotpatches with
  dependencies, two not live-revertible, planned/unplanned/out-of-band reboots, eligibility changes,
  retirement), breadth first, checking each invariant in every state and on every transition, then deadlocks,
  recoverability (a resting state reachable from everywhere) and coverage of the machine's states and
  transitions. A violation is shown as the shortest path to it and written as a timeline to DIR/<invariant>.jsonl
  (default DIR: out/check), which hotpatch history and replay take as it is. Stops at the first violation unless
  --continue. Exits 1 on a violation, a deadlock or an unrecoverable state.
  --machine rollout checks the rollout lifecycle instead, on a rollout of one hotpatch over three devices (one
  pilot, two broad): no ring before the previous gate, nothing instructed while paused or halted, failures within
  the budget plus what was in flight, a tenant's pause never lifted by the service.
  --machine ring checks the ring lifecycle (a ring's pauses, whatever the release): every pause and resume by
  either party; paused exactly while held, a resume lifts only its party's pause, the service never the tenant's.
  --policy checks a fleet policy (the simulate --policy format) on rings of the given sizes ({"pilot": 20, …} in
  --fleet's file): the rollout of one release as the orchestrator runs it (ticks every M minutes, default 60),
  every device free to verify or fail its health check, every agent free to report late or never. Prints, per
  ring and in total, the most devices the release can run on without verifying healthy before the halt stops it
  (with a run reaching it, written to DIR/blast-total.jsonl and DIR/blast-<ring>.jsonl for hotpatch history and
  replay), the longest it can run in a ring before a halt, and whether a ring can start before the previous gate
  passed. --apply-failures lets applies fail too (a larger search). A ring whose deadline can come before every
  device of it has settled and soaked is printed NOT EXACT, and the command exits 1: its figures are lower bounds;
  so is the longest run before a halt where the apply timeout is more than a tick. --every-timing explores what
  the default leaves out there (failed applies, a health report in its apply's interval, an apply at every tick)
  and gives exact figures for every ring, in a much larger search (fine for rings of tens of devices).
  --invariants (and a scenario's "invariants") adds invariants of your own, checked and listed with the built-in
  ones, a violation written as DIR/<name>.jsonl (DIR/blast-<name>.jsonl for --policy): {"invariants": [
  {"kind": "atMost", "ring": "pilot", "state": "applied", "count": 5}, {"kind": "never", "state": "failed",
  "afterHours": 72}, {"kind": "leavesWithin", "state": "applied", "hours": 48}]}. A scenario takes never only
  (one device, no clock); see docs/model-checking.md, "Your own invariants".`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      scenario: { type: 'string' },
      machine: { type: 'string' },
      continue: { type: 'boolean' },
      'max-depth': { type: 'string' },
      'max-states': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      policy: { type: 'string' },
      fleet: { type: 'string' },
      'ring-sizes': { type: 'string' },
      'tick-minutes': { type: 'string' },
      'apply-failures': { type: 'boolean' },
      'every-timing': { type: 'boolean' },
      invariants: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const str = (name: string) => values[name] as string | undefined;
    if (values.policy !== undefined) {
      for (const other of ['machine', 'scenario', 'continue', 'max-depth'] as const) if (values[other] !== undefined) throw new UsageError(`--${other} does not apply to --policy`);
      return checkPolicy(
        {
          policy: str('policy')!,
          ...(str('fleet') !== undefined ? { fleet: str('fleet')! } : {}),
          ...(str('ring-sizes') !== undefined ? { ringSizes: str('ring-sizes')! } : {}),
          ...(str('tick-minutes') !== undefined ? { tickMinutes: str('tick-minutes')! } : {}),
          ...(str('max-states') !== undefined ? { maxStates: str('max-states')! } : {}),
          ...(str('out') !== undefined ? { out: str('out')! } : {}),
          ...(str('invariants') !== undefined ? { invariants: str('invariants')! } : {}),
          applyFailures: Boolean(values['apply-failures']),
          everyTiming: Boolean(values['every-timing']),
          json: Boolean(values.json),
        },
        io,
      );
    }
    for (const only of ['fleet', 'ring-sizes', 'tick-minutes', 'apply-failures', 'every-timing'] as const) if (values[only] !== undefined) throw new UsageError(`--${only} applies to --policy only`);
    const machine = (values.machine as string | undefined) ?? 'device';
    if (machine !== 'device' && machine !== 'rollout' && machine !== 'ring') throw new UsageError(`--machine: expected device, rollout or ring, got ${JSON.stringify(machine)}`);
    if (machine !== 'device' && values.scenario !== undefined) throw new UsageError(`--scenario applies to the device machine; the ${machine} check uses its built-in scenario`);
    if (machine !== 'device' && values.invariants !== undefined) throw new UsageError(`--invariants applies to the device machine and to --policy, not to the ${machine} check`);
    let scenario = DEFAULT_SCENARIO;
    let extra: CustomInvariant[] = [];
    try {
      if (values.scenario !== undefined) scenario = await loadScenario(values.scenario as string);
      if (str('invariants') !== undefined) {
        extra = await loadInvariants(str('invariants')!);
        checkDeviceInvariants(extra, str('invariants')!, scenario.invariants ?? []);
      }
    } catch (error) {
      if (error instanceof ScenarioError || error instanceof InvariantError) throw new CheckFailed(error.message);
      throw error;
    }
    const options = {
      continueOnViolation: Boolean(values.continue),
      ...(values['max-depth'] !== undefined ? { maxDepth: positiveInt(values['max-depth'] as string, '--max-depth', 1) } : {}),
      ...(values['max-states'] !== undefined ? { maxStates: positiveInt(values['max-states'] as string, '--max-states', 1) } : {}),
    };
    // The two machines have different state and event types; the report below only reads what they share.
    const result = await stoppableAtOnce(
      () => (machine === 'rollout' ? check(rolloutCheckModel(), options) : machine === 'ring' ? check(ringCheckModel(), options) : check(deviceCheckModel(scenario, undefined, extra), options)) as ReturnType<typeof check<DeviceState, DeviceEventBody>>,
    );
    const name = machine === 'rollout' ? DEFAULT_ROLLOUT_SCENARIO.name : machine === 'ring' ? 'pauses' : scenario.name;
    const outDir = resolve((values.out as string | undefined) ?? 'out/check');
    const device = machine === 'device' ? (scenario.device ?? 'model') : 'model';
    const stream = machine;
    const written: Record<string, string> = {};
    if (result.violations.length) {
      for (const v of result.violations) {
        const file = join(outDir, `${v.invariant}.jsonl`);
        await writeFileAtomically(file, (out) => out.writeFile(timelineText(pathToTimeline(v.path, { device, name: `${name}/${v.invariant}`, stream }))));
        written[v.invariant] = relative(process.cwd(), file) || file;
      }
    }
    const failed = result.violations.length > 0 || result.deadlocks.length > 0 || (result.unrecoverable?.length ?? 0) > 0;
    const invariants: ReadonlyArray<{ name: string; description: string; custom?: boolean }> =
      machine === 'rollout'
        ? [...rolloutStateInvariants, ...rolloutTransitionInvariants]
        : machine === 'ring'
          ? [...ringStateInvariants, ...ringTransitionInvariants]
          : [...deviceStateInvariants, ...deviceTransitionInvariants, ...[...(scenario.invariants ?? []), ...extra].map(deviceInvariant)];

    if (values.json) {
      io.out(
        json({
          machine,
          scenario: name,
          ok: !failed,
          stats: result.stats,
          invariants: invariants.map((inv) => {
            const v = result.violations.find((x) => x.invariant === inv.name);
            return { name: inv.name, custom: inv.custom ?? false, holds: v === undefined ? (result.stats.complete ? true : null) : false, ...(v ? { message: v.message, steps: v.path.length, found: v.count, timeline: written[inv.name], path: v.path.map((s) => s.event) } : {}) };
          }),
          deadlocks: result.deadlocks.map((d) => ({ state: d.state, path: d.path.map((s) => s.event) })),
          unrecoverable: result.unrecoverable?.map((u) => ({ state: u.state, path: u.path.map((s) => s.event) })) ?? null,
          coverage: result.coverage,
        }),
      );
    } else {
      const s = result.stats;
      const n = (x: number) => x.toLocaleString('en-US');
      io.out(
        machine === 'rollout'
          ? `hotpatch check — rollout machine, scenario ${name}: ${DEFAULT_ROLLOUT_SCENARIO.rings.map((r) => `${r.name} (${r.devices.length})`).join(', ')}, ${s.eventsPerState} events per state`
          : machine === 'ring'
            ? `hotpatch check — ring machine, scenario ${name}: ${ringCheckEvents.length} pauses and resumes by the service and the tenant, from every state`
            : `hotpatch check — device machine, scenario ${name}: ${scenario.baselines.length} baselines, ${scenario.hotpatches.length} hotpatches, ${s.eventsPerState} events per state`,
      );
      io.out(
        `Explored ${n(s.distinctStates)} distinct states and ${n(s.transitions)} transitions to depth ${s.depth} in ${s.seconds.toFixed(2)} s (${n(Math.round(s.statesPerSecond))} states/s)` +
          (s.complete ? ' — complete' : ` — INCOMPLETE: stopped by ${s.stoppedBy}`),
      );
      io.out(`\nInvariants`);
      for (const inv of invariants) {
        const v = result.violations.find((x) => x.invariant === inv.name);
        io.out(`  ${v ? '✗' : s.complete ? '✓' : '?'} ${inv.name.padEnd(32)} ${inv.description}${inv.custom ? ' (yours)' : ''}`);
      }
      for (const v of result.violations) {
        io.out(`\n✗ ${v.invariant} violated after ${v.path.length} steps${v.count > 1 ? ` (found ${v.count} times; this is a shortest path)` : ''}: ${v.message}`);
        io.out(formatPath(v.initial, v.path));
        io.out(`  timeline: ${written[v.invariant]}${machine === 'device' ? `  (pnpm hotpatch history ${written[v.invariant]} --device ${device})` : ''}`);
      }
      io.out(`\nDeadlocks: ${result.deadlocks.length === 0 ? 'none' : result.deadlocks.length}`);
      for (const d of result.deadlocks.slice(0, 5)) io.out(`  stuck in ${d.state.value} after ${d.path.map((p) => p.event.type).join(' → ')}`);
      io.out(
        `Recoverability: ${result.unrecoverable === null ? 'not computed (search incomplete)' : result.unrecoverable.length === 0 ? `${machine === 'rollout' ? 'a settled state (completed, halted, betweenRings)' : machine === 'ring' ? 'an open ring' : 'a resting state (current, verified, rolledBack)'} is reachable from every state` : `${result.unrecoverable.length} states cannot reach a resting state`}`,
      );
      for (const u of (result.unrecoverable ?? []).slice(0, 5)) io.out(`  ${u.state.value} after ${u.path.map((p) => p.event.type).join(' → ')}`);
      const c = result.coverage;
      io.out(`Coverage: ${c.states.total - c.states.missing.length}/${c.states.total} states, ${c.transitions.reached}/${c.transitions.total} transitions`);
      for (const m of c.states.missing) io.out(`  state never reached: ${m}`);
      for (const m of c.transitions.missing) io.out(`  transition never taken: ${m}`);
    }
    if (failed) throw new CheckFailed(`${result.violations.length} invariant violation(s), ${result.deadlocks.length} deadlock(s), ${result.unrecoverable?.length ?? 0} unrecoverable state(s)`);
  },
};
