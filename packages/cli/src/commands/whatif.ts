import { readLogPages, scopeStore, type EventStore } from '@hotpatch/store';
import type { FleetPolicy } from '@hotpatch/fleet';
import { whatIf, ORDINARY_OUTCOMES, type RolloutOutcome, type WhatIfResult } from '@hotpatch/simulator';
import { CheckFailed, parse, positiveInt, UsageError, type CommandSpec } from '../args.js';
import { json } from '../format.js';
import { InvalidEventError, type HotpatchEvent } from '@hotpatch/core';
import { noTenant, ofTenant, TENANT_OPTION, TENANT_USAGE, tenantEvents, tenantFlag } from '../tenant.js';
import { describeSource, openEventStore, parseStoreSource, sourceFrom } from '../store-source.js';
import { mustExist, timelineEvents } from '../timeline-input.js';
import { comparisonTable, readPolicyFile } from './simulate.js';
import { problemLine } from './verify.js';

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const minute = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 16).replace('T', ' '));

/** A policy's rings in full: what a what-if changes. */
function ringLines(rings: FleetPolicy['rings']): string[] {
  return rings.map(
    (r) =>
      `  ${r.name}: deferral ${r.deferralDays} d, budget ${'count' in r.budget ? `${r.budget.count} devices` : `${r.budget.percent}%`}, gate verified ≥ ${pct(r.gate.minVerifiedShare)}, failures ≤ ${pct(r.gate.maxFailureRate)}${r.gate.maxSetAsideShare === undefined ? '' : `, set aside ≤ ${pct(r.gate.maxSetAsideShare)}`}, soak ${r.gate.minSoakHours} h, deadline ${r.deadlineDays} d`,
  );
}

/** How a rollout ended: its state (when and why it halted) and the rings it reached. */
function ending(r: RolloutOutcome | undefined): string {
  if (r === undefined) return 'not planned';
  const reached = r.rings.filter((g) => g.started !== null).map((g) => g.name);
  const where = r.state === 'halted' ? `halted ${minute(r.haltedAt)}: ${r.haltReason}` : r.state;
  return `${where}; reached ${reached.join(', ') || 'no ring'}`;
}
/** What says whether a rollout ended differently: its state, why it halted, the rings it reached (not when). */
const endKey = (r: RolloutOutcome | undefined) => (r === undefined ? '' : JSON.stringify([r.state, r.haltReason, r.rings.filter((g) => g.started !== null).map((g) => g.name)]));
const counts = (r: RolloutOutcome | undefined) => (r === undefined ? '' : `; ${r.instructed} devices instructed, ${r.failed} failed`);

export function printWhatIf(result: WhatIfResult, policyName: string, out: (text: string) => void): void {
  out(`hotpatch whatif — ${result.devices} devices, ${minute(result.start)} to ${minute(result.end)}: the recorded releases under ${policyName}`);
  out('Recorded rings (from the log’s first rollout plan):');
  for (const line of ringLines(result.recordedRings)) out(line);
  out(`What-if rings (${policyName}):`);
  for (const line of ringLines(result.rings)) out(line);
  out('');
  out(comparisonTable(result.recorded.figures, result.whatIf.figures, ['recorded', 'what-if']));
  out('\nRollouts');
  const ids = [...new Set([...result.recorded.rollouts, ...result.whatIf.rollouts].map((r) => r.rollout))];
  const changed: string[] = [];
  for (const id of ids) {
    const [a, b] = [result.recorded.rollouts.find((r) => r.rollout === id), result.whatIf.rollouts.find((r) => r.rollout === id)];
    const different = endKey(a) !== endKey(b);
    if (different) changed.push(id);
    out(`  ${id}${different ? '   <- ends differently' : ''}`);
    out(`    recorded: ${ending(a)}${counts(a)}`);
    out(`    what-if:  ${ending(b)}${counts(b)}`);
  }
  out(changed.length ? `\nEnds differently under this policy: ${changed.join(', ')}.` : '\nEvery rollout ends as it did (halts, and the rings reached).');
  const { recorded, fromOtherDevices, estimated, ordinary } = result.answers;
  const total = recorded + fromOtherDevices + estimated + ordinary;
  const ordinaryOutcome = `applied in ${ORDINARY_OUTCOMES.applyMinutes} min, healthy, rolled back in ${ORDINARY_OUTCOMES.rollbackMinutes} min, restarted in ${ORDINARY_OUTCOMES.restartHours} h`;
  const parts = [`${recorded} as they did in the log (${pct(total ? recorded / total : 0)})`];
  if (result.unrecorded === 'estimate') {
    parts.push(`${estimated} health verdicts drawn with the release's estimated failure share (below)`);
    parts.push(`${fromOtherDevices} other steps as the same release did on another device of the log (drawn with --seed)`);
  } else if (result.unrecorded === 'other-devices') {
    parts.push(
      `${fromOtherDevices} as the same release did on another device of the log (drawn with --seed; where a rollout halted, the log saw the devices that failed first, so these lean pessimistic: this is the pessimistic bound)`,
    );
  }
  parts.push(`${ordinary} with the ordinary outcome (${ordinaryOutcome}; ${result.unrecorded === 'ordinary' ? 'every step the log never shows for a device: the optimistic bound' : 'a release never seen at that step'})`);
  out(`\nThe devices answered ${total} times: ${parts.join(', ')}.`);
  if (result.estimates.length > 0) {
    out('Estimated health (Aalen–Johansen: devices the log stopped watching before their verdict count as not failed up to then):');
    for (const e of result.estimates) {
      out(
        `  ${e.release}: ${e.failed} of ${e.verdicts} verdicts failed, ${e.censored} devices unwatched before theirs: failure share ${pct(e.failureShare)} (90% interval ${pct(e.interval[0])}–${pct(e.interval[1])}; ${pct(e.verdicts ? e.failed / e.verdicts : 0)} of the verdicts)`,
      );
    }
  }
  if (result.unrecorded === 'estimate') out('For the bounds: --unrecorded other-devices (pessimistic) and --unrecorded ordinary (optimistic).');
  const { replayed, notApplied } = result.interventions;
  if (replayed + notApplied.length > 0) {
    out(`\nPauses and resumes of the log, done again at their times: ${replayed}${notApplied.length ? `; not applicable under this policy: ${notApplied.length}` : ''}.`);
    for (const n of notApplied) out(`  ${n.ring !== undefined ? `ring ${n.ring}` : n.rollout}: ${n.type === 'RolloutPaused' || n.type === 'RingPaused' ? 'pause' : 'resume'} by the ${n.by} at ${minute(n.at)} — ${n.why}`);
  }
  const { enrolledLater, retired } = result.fleetChanges;
  if (enrolledLater + retired > 0) out(`\nThe fleet's own changes, made again at their times: ${enrolledLater} devices enrolled after the log's start (in the what-if from then on), ${retired} retired.`);
  for (const s of result.releasesSkipped) out(`Not run again: ${s.release} — ${s.reason}.`);
}

export const whatifCommand: CommandSpec = {
  name: 'whatif',
  summary: 'what another rollout policy would have done: a recorded log run again under it, side by side',
  usage: `hotpatch whatif --store <source> | <file.jsonl>  --policy file.json  [--unrecorded estimate|other-devices|ordinary] [--seed S] [--out <store>] [--tenant T] [--json]

  Takes the fleet, the releases and every device's recorded answers from a log (a store or a timeline file),
  and runs the releases again through the orchestrator under the policy in file.json (rings, budgets, gates,
  timeouts: the format of simulate --policy), on a simulated clock over the log's span. Each device answers as it
  did in the log: the same apply result, health verdict, rollback result and restart, after the same delay. The
  log's pauses and resumes (by the tenant or the service) are done again at their times; those a what-if rollout
  cannot take (it had already completed or halted) are listed. Devices join the fleet (enrolment, first
  assessment) and leave it (retirement) at their recorded times.

  A step the log never shows for a device (a ring the recorded rollout never reached, a device rolled back at a
  halt before its health check reported) is answered, with --unrecorded:
    estimate        (default) a health verdict drawn with the release's failure share estimated from the log,
                    counting the devices it stopped watching before their verdict as not failed up to then
                    (Aalen–Johansen); other steps as the same release did on another device of the log
    other-devices   as the same release did on another device of the log, drawn uniformly: where a rollout
                    halted, the devices seen failing reported first, so this is the pessimistic bound
    ordinary        every unseen step went well: the optimistic bound
  drawn with --seed (default 1); a release never seen at that step gets the ordinary outcome. The output says how
  many answers were of each kind, and each estimated release's figures.

  Prints both runs' figures (reboots, downtime, exposure, rollbacks, halts) and how each rollout ended: when and
  why it halted, which rings it reached, how many devices it instructed and how many failed. The what-if log is
  kept in memory (packed, about 80 bytes an event), or written to --out (an empty store: sqlite:PATH, a postgres://
  URL); the recorded log is only read.

  ${TENANT_USAGE} With --out, the what-if log is written as T's (the store need hold nothing of T's).`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, policy: { type: 'string' }, seed: { type: 'string' }, unrecorded: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, ...TENANT_OPTION });
    const source = sourceFrom(positionals, values.store as string | undefined);
    const tenant = tenantFlag(values.tenant);
    // The tenant's events alone, as it names them (the default tenant's: the streams without a prefix).
    const keep = tenantEvents(tenant);
    let kept = 0;
    const ofTheTenant = <E extends HotpatchEvent>(events: readonly E[]): E[] => {
      const mine = keep(events);
      kept += mine.length;
      return mine;
    };
    /** A named tenant the log holds nothing of: said before anything is run. */
    const noneOfIt = () => {
      if (tenant !== undefined && kept === 0) throw new CheckFailed(noTenant(tenant, describeSource(source)));
    };
    if (values.policy === undefined) throw new UsageError('missing --policy file.json: the policy to run the recorded releases under');
    const policy = await readPolicyFile(values.policy as string);
    const seed = positiveInt(values.seed as string | undefined, '--seed', 1);
    const unrecorded = (values.unrecorded as string | undefined) ?? 'estimate';
    if (unrecorded !== 'estimate' && unrecorded !== 'other-devices' && unrecorded !== 'ordinary') throw new UsageError(`--unrecorded: estimate, other-devices or ordinary, not ${JSON.stringify(unrecorded)}`);
    const outSource = values.out === undefined ? undefined : parseStoreSource(values.out as string);
    if (outSource?.kind === 'jsonl') throw new UsageError('--out: a store (sqlite:PATH or a postgres:// URL), not a timeline file; export it afterwards');
    // A timeline file is read line by line, a store page by page, twice either way, so that a log larger than
    // memory can be asked.
    let recorded: Parameters<typeof whatIf>[0]['recorded'];
    let recordedStore: EventStore | undefined;
    if (source.kind === 'jsonl') {
      // The first bad line stops the what-if, naming the line, before it writes anything: the recorded log is read
      // to its end once before the service is run again.
      await mustExist(source.path, { readTwice: true });
      const path = source.path;
      // Checked as verify checks it on the first reading (the same file on the second: not again).
      let readings = 0;
      recorded = async function* () {
        const check = readings++ === 0;
        for await (const events of timelineEvents(path, { check, say: (text) => io.err(text) })) yield* ofTheTenant(events);
        noneOfIt();
      };
    } else {
      recordedStore = await openEventStore(source, { readonly: true });
      const from = recordedStore;
      recorded = async function* () {
        for await (const page of readLogPages(from)) yield* ofTheTenant(page);
        noneOfIt();
      };
    }
    const opened = outSource === undefined ? undefined : await openEventStore(outSource);
    const store = opened === undefined || tenant === undefined ? opened : scopeStore(opened, tenant);
    try {
      if (store !== undefined && (await store.readAll({ limit: 1 })).length > 0) throw new CheckFailed(`${ofTenant(describeSource(outSource!), tenant)} is not empty; the what-if log needs an empty store`);
      // Progress: on a terminal one line redrawn, otherwise a plain line per simulated week (on stderr).
      let lastWeek = '';
      const onProgress = ({ at, share }: { at: string; share: number }) => {
        if (io.isTTY) process.stderr.write(`\rwhatif ${at.slice(0, 10)} ${String(Math.round(share * 100)).padStart(3)}%${share >= 1 ? '\n' : ''}`);
        else if (new Date(at).getUTCDay() === 1 && at.slice(0, 10) !== lastWeek) {
          lastWeek = at.slice(0, 10);
          io.err(`whatif: ${lastWeek} (${Math.round(share * 100)}%)`);
        }
      };
      const result = await whatIf({ recorded, policy, seed, unrecorded, onProgress, ...(store ? { store } : {}) }).catch((error: unknown) => {
        throw error instanceof RangeError ? new CheckFailed(error.message) : error instanceof InvalidEventError ? new CheckFailed(problemLine(error)) : error;
      });
      if (values.json) io.out(json({ policy: values.policy, seed, out: outSource ? describeSource(outSource) : 'memory', ...result }));
      else {
        printWhatIf(result, values.policy as string, io.out);
        if (outSource) io.out(`The what-if log is in ${describeSource(outSource)}: replay, history and status read it like any other.`);
      }
    } finally {
      await opened?.close();
      await recordedStore?.close();
    }
  },
};
