/** `hotpatch check --policy`: a policy's blast radius (see docs/model-checking.md, "Blast radius of a policy"). */
import { join, relative, resolve } from 'node:path';
import { blastRadius, deadlineRisks, InvariantError, longestMayBeShort, loadInvariants, MODEL_RELEASE, policyInvariants, replayPath, timelineText, witnessTimeline, type BlastResult, type PolicyInvariant, type Witness } from '@hotpatch/check';
import type { FleetPolicy } from '@hotpatch/fleet';
import { readSmallFile, writeFileAtomically } from '@hotpatch/store';
import { CheckFailed, positiveInt, UsageError, type Output } from '../args.js';
import { json } from '../format.js';
import { stoppableAtOnce } from '../signals.js';
import { readPolicyDocument } from './simulate.js';

export interface PolicyCheckArgs {
  readonly policy: string;
  readonly fleet?: string;
  readonly ringSizes?: string;
  readonly tickMinutes?: string;
  readonly applyFailures: boolean;
  /** Every timing of reports (failed applies, health in its apply's interval): exact where the default may not be. */
  readonly everyTiming?: boolean;
  readonly maxStates?: string;
  readonly out?: string;
  /** A file of custom invariants ({"invariants": […]}). */
  readonly invariants?: string;
  readonly json: boolean;
}

/** Ring sizes from `pilot=20,broad=180`, or from a file `{"pilot": 20, "broad": 180}`, in the policy's ring order. */
async function ringSizes(policy: FleetPolicy, args: PolicyCheckArgs): Promise<number[]> {
  if ((args.fleet === undefined) === (args.ringSizes === undefined)) throw new UsageError('--policy needs the ring sizes: --fleet rings.json or --ring-sizes pilot=20,broad=180 (one of them)');
  let sizes: Record<string, unknown>;
  let where: string;
  if (args.ringSizes !== undefined) {
    where = '--ring-sizes';
    sizes = Object.create(null) as Record<string, unknown>; // a ring named __proto__ is a ring like any other
    for (const part of args.ringSizes.split(',')) {
      const [, name, n] = /^([^=]+)=(\d+)$/.exec(part) ?? [];
      if (name === undefined || n === undefined) throw new UsageError(`--ring-sizes: expected ring=count, got ${JSON.stringify(part)}`);
      // Said twice, a ring's size would be the last one silently.
      if (Object.hasOwn(sizes, name)) throw new UsageError(`--ring-sizes: ${name} is given twice`);
      sizes[name] = Number(n);
    }
  } else {
    where = args.fleet!;
    const read = await readSmallFile(where).catch(() => {
      throw new UsageError(`--fleet: cannot read ${where}`);
    });
    if ('tooLarge' in read) throw new CheckFailed(`${where}: larger than 1 MiB: not a fleet's ring sizes`);
    try {
      sizes = JSON.parse(read.text) as Record<string, unknown>;
    } catch (error) {
      throw new CheckFailed(`${where}: ${(error as Error).message}`);
    }
    if (typeof sizes !== 'object' || sizes === null || Array.isArray(sizes)) throw new CheckFailed(`${where}: expected {"<ring>": <devices>, …}`);
  }
  const names = policy.rings.map((r) => r.name);
  for (const name of Object.keys(sizes)) if (!names.includes(name)) throw new CheckFailed(`${where}: ${name} is not a ring of the policy (${names.join(', ')})`);
  return names.map((name) => {
    const n = sizes[name];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1_000_000) throw new CheckFailed(`${where}: ${name}: expected a whole number of devices from 1 to 1,000,000, got ${JSON.stringify(n)}`);
    return n;
  });
}

const MAX_TICK_MINUTES = 525_600;

const hours = (ms: number) => {
  const h = ms / 3_600_000;
  return h >= 48 ? `${h} h (${Math.floor(h / 24)} d ${h % 24} h)` : `${h} h`;
};

export async function checkPolicy(args: PolicyCheckArgs, io: Output): Promise<void> {
  const { policy, invariants: inline = [] } = await readPolicyDocument(args.policy);
  const sizes = await ringSizes(policy, args);
  const tickMinutes = positiveInt(args.tickMinutes, '--tick-minutes', 60);
  // Past a year a tick is no orchestrator's, and far past it the model's times leave the dates a Date can hold.
  if (tickMinutes > MAX_TICK_MINUTES) throw new UsageError(`--tick-minutes: expected at most ${MAX_TICK_MINUTES.toLocaleString('en-US')} (a year), got ${args.tickMinutes}`);
  const maxStates = positiveInt(args.maxStates, '--max-states', 5_000_000);
  const everyTiming = args.everyTiming ?? false;
  if (everyTiming && args.applyFailures) throw new UsageError('--every-timing already lets applies fail: give one of --every-timing and --apply-failures');
  let custom: PolicyInvariant[] = [];
  try {
    // The policy file's own invariants, then --invariants's: a name is used once across both.
    custom = policyInvariants(inline, policy, args.policy);
    if (args.invariants !== undefined) custom.push(...policyInvariants(await loadInvariants(args.invariants), policy, args.invariants, custom.map((c) => c.name)));
  } catch (error) {
    if (error instanceof InvariantError) throw new CheckFailed(error.message);
    throw error;
  }
  const result = await stoppableAtOnce(() => blastRadius({ policy, ringSizes: sizes, tickMinutes, applyFailures: args.applyFailures, everyTiming, maxStates, custom }));
  const outDir = resolve(args.out ?? 'out/check');
  /** Each run's timeline, by its steps: the worst runs are often one run (the total's, the last ring's, the longest). */
  const texts = new Map<string, string>();
  const textOf = (w: Witness) => {
    const steps = JSON.stringify(w.labels);
    let text = texts.get(steps);
    if (text === undefined) texts.set(steps, (text = timelineText(witnessTimeline(result.model, w))));
    return text;
  };
  /** A violation at the very start (labels []) is written too: its timeline is the fleet before the release. */
  const write = async (name: string, w: Witness | null, evenAtStart = false) => {
    if (w === null || (w.labels.length === 0 && !evenAtStart)) return undefined;
    const file = join(outDir, `${name}.jsonl`);
    await writeFileAtomically(file, (out) => out.writeFile(textOf(w)));
    return relative(process.cwd(), file) || file;
  };
  const names = policy.rings.map((r) => r.name);
  const files = {
    total: await write('blast-total', result.total),
    rings: await Promise.all(result.rings.map((w, i) => write(`blast-${names[i]}`, w))),
    longest: await write('blast-longest-applied', result.longestApplied),
    invariants: await Promise.all(result.invariants.map((inv) => write(`blast-${inv.name}`, inv.violated, true))),
  };
  const violated = result.invariants.filter((i) => i.violated !== null);
  // Rings whose deadline can come before they settle: there the default search's timing may miss a run
  // (deadline-risk.ts); the search of every timing has those runs.
  const risks = everyTiming ? [] : deadlineRisks(policy, sizes, tickMinutes);
  // An apply timeout of more than a tick: the default's longest run before a halt is a lower bound (longestMayBeShort).
  const shortLongest = !everyTiming && result.longestApplied !== null && longestMayBeShort(policy, tickMinutes);
  if (args.json) {
    io.out(
      json({
        policy: args.policy,
        rings: names.map((name, i) => ({ name, devices: sizes[i], worst: result.rings[i]!.value, timeline: files.rings[i] ?? null })),
        total: { devices: sizes.reduce((a, b) => a + b, 0), worst: result.total.value, steps: result.total.labels.length, timeline: files.total ?? null },
        longestAppliedBeforeHalt: result.longestApplied ? {
              hours: result.longestApplied.value / 3_600_000,
              // Counted from the tick the first apply was reported at: reported sooner in that tick's interval (an
              // agent answering just after its instruction), a real run is up to a tick longer, never more.
              upToHours: (result.longestApplied.value + tickMinutes * 60_000) / 3_600_000,
              timeline: files.longest ?? null,
              lowerBound: shortLongest,
            } : null,
        completesWithUnhealthy: result.completesWithBad?.value ?? 0,
        ringBeforeGate: result.invariants.find((i) => i.name === 'noRingBeforeGate')?.violated !== null,
        invariants: result.invariants.map((inv, k) => ({ name: inv.name, custom: inv.custom, holds: inv.violated === null ? (result.stats.complete ? true : null) : false, ...(inv.message ? { message: inv.message, timeline: files.invariants[k] } : {}) })),
        stats: { ...result.stats, tickMinutes, applyFailures: result.model.applyFailures, everyTiming },
        // A search stopped by --max-states gives lower bounds, whatever the timing.
        exact: result.stats.complete && risks.length === 0 && !shortLongest,
        deadlineRisks: risks,
      }),
    );
  } else {
    printBlast(io, args.policy, names, sizes, tickMinutes, result, files, args.applyFailures);
    const h = (x: number) => `${Math.round(x * 100) / 100} h`;
    if (shortLongest) io.out(`\nNOT EXACT for the longest run before a halt: an apply may be reported at any tick before its timeout (${policy.applyTimeoutMinutes} min, more than a tick), which this search has at the next tick it visits, so a real run's first apply can come sooner; --every-timing gives it exactly, in a larger search (docs/model-checking.md, "Time")`);
    for (const r of risks) io.out(`\nNOT EXACT for ring ${r.ring}: its deadline (${h(r.deadlineHours)} after it starts) can come before every device has settled and the ring soaked (up to ${h(r.settledHours)}); a real run may then pass its gate where this search has the deadline halt the rollout, and go on to the next ring; --every-timing gives the exact figures, in a larger search (docs/model-checking.md, "Not so")`);
  }
  if (!result.stats.complete) throw new CheckFailed(`the search stopped at ${result.stats.states} states (--max-states): the worst cases above are lower bounds`);
  if (violated.length) throw new CheckFailed(`${violated.length} invariant violation(s)`);
  if (risks.length) throw new CheckFailed(`not exact for ${risks.map((r) => `ring ${r.ring}`).join(', ')} (its deadline can come before it settles): the worst cases above are lower bounds; --every-timing gives them exactly`);
  if (shortLongest) throw new CheckFailed('not exact for the longest run before a halt (an apply timeout of more than a tick): a lower bound; --every-timing gives it exactly');
}

function printBlast(
  io: Output,
  policyName: string,
  names: string[],
  sizes: number[],
  tickMinutes: number,
  r: BlastResult,
  files: { total?: string | undefined; rings: (string | undefined)[]; longest?: string | undefined; invariants: (string | undefined)[] },
  /** Whether --apply-failures was given (an invariant of yours on failed devices lets applies fail too). */
  askedApplyFailures: boolean,
): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const all = sizes.reduce((a, b) => a + b, 0);
  io.out(`hotpatch check --policy ${policyName} — rings ${names.map((name, i) => `${name} (${n(sizes[i]!)})`).join(', ')}; orchestrator ticks every ${tickMinutes} min`);
  const timing = r.model.everyTiming ? ' Every timing: applies free to fail, health reported as soon as the interval of the apply.' : r.model.applyFailures ? (askedApplyFailures ? ' Applies free to fail.' : ' Applies free to fail, for an invariant of yours on failed devices (applies timing out at one tick fail together).') : '';
  io.out(`Every device free to verify or fail its health check, every agent free to report late or never (silent).${timing}`);
  io.out(`Explored ${n(r.stats.states)} states, ${n(r.stats.runs)} run ends reached, in ${r.stats.seconds.toFixed(2)} s — ${r.stats.complete ? 'complete' : 'INCOMPLETE (--max-states)'}`);
  io.out(`\nBlast radius: devices the release ran on that did not verify healthy (failed health, set aside silent, in flight at the halt), worst case`);
  for (let i = 0; i < names.length; i++) io.out(`  ${names[i]!.padEnd(12)} ${n(r.rings[i]!.value).padStart(7)} of ${n(sizes[i]!)}${files.rings[i] ? `   timeline: ${files.rings[i]}` : ''}`);
  io.out(`  ${'total'.padEnd(12)} ${n(r.total.value).padStart(7)} of ${n(all)}${files.total ? `   timeline: ${files.total} (${r.total.labels.length} steps)` : ''}`);
  if (files.total) {
    io.out(`  the worst run (hotpatch history ${files.total} --rollout ${MODEL_RELEASE}):`);
    for (const line of describeRun(r, r.total)) io.out(`    ${line}`);
  }
  io.out(
    `\nLongest the release ran in a ring before a halt stopped it: ${r.longestApplied ? `${hours(r.longestApplied.value)} from its first apply as reported at a tick (reported sooner in that tick's interval: up to ${tickMinutes} min more)${files.longest ? `   timeline: ${files.longest}` : ''}` : 'no run halts with the release applied'}`,
  );
  io.out(`Runs that complete the rollout with devices unhealthy (no halt ever comes): ${r.completesWithBad ? `up to ${n(r.completesWithBad.value)} devices` : 'none'}`);
  const gate = r.invariants.find((i) => i.name === 'noRingBeforeGate');
  io.out(`A ring reached before the previous ring's gate passed: ${gate?.violated ? `YES — ${gate.message}` : r.stats.complete ? 'never' : 'not in the runs explored'}`);
  io.out(`\nInvariants (the rollout machine's, and yours, on every step of every run)`);
  r.invariants.forEach((inv, k) => {
    const timeline = files.invariants[k] ? `   timeline: ${files.invariants[k]} (${inv.violated!.labels.length} steps)` : '';
    io.out(`  ${inv.violated ? '✗' : r.stats.complete ? '✓' : '?'} ${inv.name.padEnd(32)} ${inv.violated ? inv.message : inv.description}${inv.custom ? ' (yours)' : ''}${timeline}`);
  });
}

/** The run's rollout events, devices counted per step: "2026-02-10T17:00Z RingStarted pilot, 20 × DeviceInstructed". */
function describeRun(r: BlastResult, w: Witness): string[] {
  const lines: string[] = [];
  for (const step of replayPath(r.model, w.labels)) {
    const counts = new Map<string, number>();
    const order: string[] = [];
    for (const act of step.acts) {
      const what = act.event === null ? 'PatchApplied (agent)' : `${act.event.type}${'ring' in act.event.data ? ` ${act.event.data.ring}` : ''}${act.event.type === 'DeviceFailed' ? ` (${act.event.data.reason})` : ''}`;
      if (!counts.has(what)) order.push(what);
      counts.set(what, (counts.get(what) ?? 0) + (act.move?.n ?? 1));
    }
    if (order.length === 0) continue;
    const at = new Date(step.acts[0]!.at).toISOString().slice(0, 16) + 'Z';
    const text = order.map((what) => (counts.get(what)! > 1 ? `${counts.get(what)} × ${what}` : what)).join(', ');
    const last = lines[lines.length - 1];
    if (last !== undefined && last.startsWith(at) && last.endsWith(text.replace(/^\d+ × /, ''))) lines[lines.length - 1] = mergeCount(last, text);
    else lines.push(`${at} ${text}`);
  }
  return lines;
}

/** Two lines of one kind at one time, added up ("3 × DeviceSucceeded" and "DeviceSucceeded": "4 × DeviceSucceeded"). */
function mergeCount(line: string, text: string): string {
  const m = /^(\S+) (?:(\d+) × )?(.*)$/.exec(line)!;
  const add = /^(?:(\d+) × )?/.exec(text)!;
  return `${m[1]} ${Number(m[2] ?? 1) + Number(add[1] ?? 1)} × ${m[3]}`;
}
