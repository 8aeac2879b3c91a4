/**
 * The blast radius of a policy: breadth first over the policy model (policy-model.ts), every run to its end (the
 * rollout halted or completed), and the worst cases over all of them, each with the shortest run reaching it.
 *
 * - per ring and in total, the devices the release ran on and that did not verify healthy by the end: failed health
 *   checks, set aside after applying (their agents went silent), and in flight when the rollout halted (applied,
 *   or applying and free to apply after the halt);
 * - the longest the release ran in the ring a halt stopped before that halt (from its first device's apply);
 * - the rollout machine's invariants on every step (no ring before the previous gate among them).
 */
import { rolloutStateInvariants, rolloutTransitionInvariants } from '../rollout-model.js';
import type { StateInvariant, TransitionInvariant } from '../invariants.js';
import type { RolloutEventBody, RolloutState } from '@hotpatch/core';
import { progress, unhealthy } from './population.js';
import { byProgress, fifo } from './search-order.js';
import { needsWholeRings, type Held, type PolicyInvariant } from './policy-invariants.js';
import { PolicyModel, type ModelState, type PolicyModelOptions, type StepLabel, type Successor } from './policy-model.js';

export interface Witness {
  readonly value: number;
  /** The steps from the initial state (replay them with `replayPath`). */
  readonly labels: readonly StepLabel[];
}

export interface BlastResult {
  readonly model: PolicyModel;
  /** `states`: the states kept (not the run ends, nor the states of a ring with nothing left to do); `runs`: the run ends reached (one end reached two ways counts twice). */
  readonly stats: { readonly states: number; readonly runs: number; readonly seconds: number; readonly complete: boolean };
  /** Per ring: the most devices the release ran on without verifying healthy. */
  readonly rings: readonly Witness[];
  readonly total: Witness;
  /** The longest (ms) the release ran in a ring before a halt stopped it; null when no run halts with it applied. */
  readonly longestApplied: Witness | null;
  /** Whether some run completes the rollout with devices the release ran on unhealthy (no halt ever comes). */
  readonly completesWithBad: Witness | null;
  /** The rollout machine's invariants, then the custom ones (`custom`), each with the shortest run violating it. */
  readonly invariants: ReadonlyArray<{ readonly name: string; readonly description: string; readonly custom: boolean; readonly violated: Witness | null; readonly message?: string }>;
}

/** Devices of ring `i` the release ran on and that are not verified healthy, at the end of a run. */
export function receivedBad(s: ModelState, i: number): number {
  let n = 0;
  for (const [local, count] of s.rings[i]!.entries()) if (unhealthy(local)) n += count;
  return n;
}

export interface BlastOptions extends PolicyModelOptions {
  /** Stop after this many distinct states (default 5,000,000): the result then says it is incomplete. */
  readonly maxStates?: number;
  readonly stateInvariants?: ReadonlyArray<StateInvariant<RolloutState>>;
  readonly transitionInvariants?: ReadonlyArray<TransitionInvariant<RolloutState, RolloutEventBody>>;
  /** Invariants of the user's (policyInvariants), checked in every state of every run. */
  readonly custom?: readonly PolicyInvariant[];
}

/** The unhealthy devices of the rings whose gate passed. */
const carried = (s: ModelState) => s.rings.reduce((sum, _, i) => sum + (s.rollout.context.rings[i]!.gatePassed ? receivedBad(s, i) : 0), 0);

export function blastRadius(options: BlastOptions): BlastResult {
  const started = process.hrtime.bigint();
  const custom = options.custom ?? [];
  // Several applies timing out at one tick fail together, past the budget: failed devices the default's runs (a
  // failure past the budget ends them) never reach. So an invariant of yours on failed devices lets applies fail.
  const applyFailures = options.applyFailures || custom.some((c) => c.spec.state === 'failed');
  const model = new PolicyModel({ ...options, applyFailures, summarize: options.summarize ?? (!options.plain && !custom.some((c) => needsWholeRings(c.spec))) });
  const stateInvariants = options.stateInvariants ?? rolloutStateInvariants;
  const transitionInvariants = options.transitionInvariants ?? rolloutTransitionInvariants;
  const maxStates = options.maxStates ?? 5_000_000;
  const parent: number[] = [-1];
  /** The step (or, for a decided state taken at once, the steps) from each state's parent. */
  const label: (StepLabel | StepLabel[] | null)[] = [null];
  const index = new Map<string, number>();
  /** What each state's settled rings carry (see `PolicyModel.key`). */
  const carriedOf: number[] = [0];
  /** Whether each state was reached only by a failure of its ring's one cohort in flight (see `PolicyModel.failureOfOneCohort`). */
  const failuresOnly: boolean[] = [false];
  /** The states not expanded yet, by index. */
  const states: (ModelState | undefined)[] = [model.initial()];
  const order = model.reduce ? byProgress() : fifo();
  const orderKey = (s: ModelState) => s.t * 2 ** 22 + progress(s.rings[Math.max(0, s.rollout.context.current)]!);
  const checkCustom = (observed: ModelState, held: Held, labels: () => StepLabel[]) => {
    for (const inv of custom) {
      if (violated.has(inv.name)) continue;
      const problem = inv.check(observed, held, model);
      if (problem !== undefined) violated.set(inv.name, { witness: { value: 1, labels: labels() }, message: problem });
    }
  };
  const keyOf: (string | undefined)[] = [model.key(states[0]!)];
  index.set(keyOf[0]!, 0);
  order.push(0, orderKey(states[0]!));
  const labelsTo = (i: number, last?: StepLabel | StepLabel[]): StepLabel[] => {
    const out: StepLabel[] = [];
    const add = (l: StepLabel | StepLabel[]) => (Array.isArray(l) ? out.push(...l.slice().reverse()) : out.push(l));
    if (last) add(last);
    for (let at = i; parent[at]! >= 0; at = parent[at]!) add(label[at]!);
    return out.reverse();
  };
  const rings: (Witness | null)[] = model.sizes.map(() => null);
  let total: Witness | null = null;
  let longest: Witness | null = null;
  let completesWithBad: Witness | null = null;
  const violated = new Map<string, { witness: Witness; message: string }>();
  let runs = 0;
  let complete = true;
  checkCustom(states[0]!, { at: model.time(0), until: model.time(0) }, () => []);
  const better = (w: Witness | null, value: number) => w === null || value > w.value;
  /** A run's end, taken into the worst cases as it is reached (ends are not kept). */
  const end = (s: ModelState, labels: () => StepLabel[]) => {
    runs++;
    let sum = 0;
    for (let i = 0; i < s.rings.length; i++) {
      const v = receivedBad(s, i);
      sum += v;
      if (better(rings[i]!, v)) rings[i] = { value: v, labels: labels() };
    }
    if (better(total, sum)) total = { value: sum, labels: labels() };
    const at = s.rollout.context.atHalt;
    if (s.rollout.value === 'halted' && at !== null && s.firstApplied[at.ring] !== null && s.haltedAt !== null) {
      const ms = s.haltedAt - model.time(s.firstApplied[at.ring]!);
      if (better(longest, ms)) longest = { value: ms, labels: labels() };
    }
    if (s.rollout.value === 'completed' && sum > 0 && better(completesWithBad, sum)) completesWithBad = { value: sum, labels: labels() };
  };

  for (let head = order.pop(); head !== undefined; head = order.pop()) {
    const s = states[head]!;
    states[head] = undefined;
    // In order of progress every way into a state comes from one expanded before it: none comes after.
    if (model.reduce) index.delete(keyOf[head]!);
    keyOf[head] = undefined;
    for (let next of model.successors(s, failuresOnly[head], false)) {
      let steps: StepLabel | StepLabel[] = next.label;
      // Reached only by failures of one cohort, every way the search reached it (all are known before it is expanded).
      let byFailure = model.reduce && model.failureOfOneCohort(s, next);
      const took = (step: Successor) => {
        const path = () => labelsTo(head, steps);
        checkInvariants(step, path, stateInvariants, transitionInvariants, violated);
        if (custom.length) {
          // Held until the orchestrator's next act (the instant before it), or only at its instant at the end of a run.
          const until = model.terminal(step.state) ? step.at : Math.max(step.at, model.time(model.nextTick(step.state)) - 1);
          checkCustom(step.observed, { at: step.at, until }, path);
        }
      };
      took(next);
      // A state whose ring has nothing left to do has one way on (its gate, or its deadline): taken at once, not kept.
      while (model.reduce && model.decided(next.state)) {
        next = model.successors(next.state, false, false)[0]!;
        byFailure = false;
        steps = [...(Array.isArray(steps) ? steps : [steps]), next.label];
        took(next);
      }
      if (model.terminal(next.state)) {
        end(next.state, () => labelsTo(head, steps));
        continue;
      }
      const key = model.key(next.state);
      const known = index.get(key);
      const mine = model.summarize ? carried(next.state) : 0;
      if (known !== undefined) {
        failuresOnly[known] &&= byFailure;
        // Alike but for its settled rings: kept if they hold more unhealthy devices (in place while not expanded yet).
        if (mine <= carriedOf[known]!) continue;
        carriedOf[known] = mine;
        if (states[known] !== undefined) {
          states[known] = next.state;
          parent[known] = head;
          label[known] = steps;
          continue;
        }
      }
      if (states.length >= maxStates) {
        complete = false;
        continue;
      }
      index.set(key, states.length);
      keyOf.push(key);
      order.push(states.length, orderKey(next.state));
      states.push(next.state);
      carriedOf.push(mine);
      failuresOnly.push(byFailure);
      parent.push(head);
      label.push(steps);
    }
  }
  const all: ReadonlyArray<{ name: string; description: string; custom?: boolean }> = [...stateInvariants, ...transitionInvariants, ...custom];
  return {
    model,
    stats: { states: states.length, runs, seconds: Number(process.hrtime.bigint() - started) / 1e9, complete },
    rings: rings.map((w) => w ?? { value: 0, labels: [] }),
    total: total ?? { value: 0, labels: [] },
    longestApplied: longest,
    completesWithBad,
    invariants: all.map((inv) => {
      const v = violated.get(inv.name);
      return { name: inv.name, description: inv.description, custom: inv.custom ?? false, violated: v?.witness ?? null, ...(v ? { message: v.message } : {}) };
    }),
  };
}

const noContext = { baselineOf: new Map<string, string>() };

function checkInvariants(
  next: Successor,
  labels: () => StepLabel[],
  stateInvariants: ReadonlyArray<StateInvariant<RolloutState>>,
  transitionInvariants: ReadonlyArray<TransitionInvariant<RolloutState, RolloutEventBody>>,
  violated: Map<string, { witness: Witness; message: string }>,
): void {
  for (const [before, event, after] of next.steps) {
    for (const inv of transitionInvariants) {
      if (violated.has(inv.name)) continue;
      const problem = inv.check(before, event, after, noContext);
      if (problem !== undefined) violated.set(inv.name, { witness: { value: 1, labels: labels() }, message: problem });
    }
    for (const inv of stateInvariants) {
      if (violated.has(inv.name)) continue;
      const problem = inv.check(after, noContext);
      if (problem !== undefined) violated.set(inv.name, { witness: { value: 1, labels: labels() }, message: problem });
    }
  }
}

/**
 * The successors taken along `labels` from the initial state: the run a witness names, with its acts. Reports come
 * at the time of the tick the model visits next from the state before them; when they leave a ring nothing to do,
 * the tick that follows is its gate's, which can be sooner (the last report took away the silence that tick was
 * waiting for): the run is the one in which those reports came before that tick, so they are given its time.
 */
export function replayPath(model: PolicyModel, labels: readonly StepLabel[]): Successor[] {
  let s = model.initial();
  const out: Successor[] = [];
  for (const l of labels) {
    const next = model.successors(s).find((x) => sameLabel(x.label, l));
    if (next === undefined) throw new Error(`step ${out.length + 1} of the witness is not a successor`);
    out.push(next);
    s = next.state;
  }
  let tickAt = Infinity;
  for (let k = out.length - 1; k >= 0; k--) {
    const step = out[k]!;
    if (step.label.kind === 'tick') tickAt = step.at;
    else if (step.at > tickAt) out[k] = { ...step, at: tickAt, acts: step.acts.map((act) => ({ ...act, at: tickAt })) };
  }
  return out;
}

function sameLabel(a: StepLabel, b: StepLabel): boolean {
  if (a.kind === 'tick') return b.kind === 'tick' && a.to === b.to;
  if (a.kind === 'reports') return b.kind === 'reports' && a.ring === b.ring && a.failed === b.failed;
  return b.kind === 'report' && a.ring === b.ring && a.from === b.from && a.to === b.to && a.device === b.device;
}
