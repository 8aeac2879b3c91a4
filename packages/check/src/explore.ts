/**
 * Explicit-state breadth-first search over a compiled lifecycle. Breadth-first, so the first path found to any
 * state or violation is a shortest one. Every successor is checked against the transition invariants, every new
 * state against the state invariants; afterwards, deadlocks (a non-final state with no way out), recoverability
 * (a resting state reachable from every state) and coverage (every state and transition of the machine taken).
 */
import type { CompiledLifecycle, MachineState } from '@hotpatch/core';
import { stateFingerprint } from './fingerprint.js';
import type { InvariantContext, StateInvariant, TransitionInvariant } from './invariants.js';

export interface CheckModel<S extends MachineState<string, object>, E extends { readonly type: string }> {
  readonly lifecycle: CompiledLifecycle<string, object, E>;
  /** The events explored from every state, in order. */
  readonly events: readonly E[];
  readonly stateInvariants: ReadonlyArray<StateInvariant<S>>;
  readonly transitionInvariants: ReadonlyArray<TransitionInvariant<S, E>>;
  readonly context: InvariantContext;
  /** States from which a device is considered recovered. */
  readonly resting: ReadonlySet<string>;
  /**
   * States meant to end the lifecycle although the machine still accepts late events in them (a halted rollout
   * counts late reports): having no way out of them is not a deadlock. Final states always count as terminal.
   */
  readonly terminal?: ReadonlySet<string>;
  /** The fingerprint states are merged by (default: value + canonical context). */
  readonly fingerprint?: (state: S) => string;
}

export interface CheckOptions {
  /** Do not expand states deeper than this (default: unbounded). */
  readonly maxDepth?: number;
  /** Stop after this many distinct states (default 5,000,000). */
  readonly maxStates?: number;
  /** Go on past the first violation (each invariant's first, shortest counterexample is kept). */
  readonly continueOnViolation?: boolean;
}

export interface PathStep<S, E> {
  readonly event: E;
  readonly state: S;
}

export interface Violation<S, E> {
  readonly invariant: string;
  readonly kind: 'state' | 'transition';
  readonly message: string;
  /** From the initial state to the bad state: the shortest such path. */
  readonly path: ReadonlyArray<PathStep<S, E>>;
  readonly initial: S;
  /** How many times the invariant was found violated (with --continue). */
  count: number;
}

export interface StateWitness<S, E> {
  readonly state: S;
  readonly path: ReadonlyArray<PathStep<S, E>>;
}

export interface CheckResult<S, E> {
  readonly stats: {
    readonly distinctStates: number;
    readonly transitions: number;
    readonly depth: number;
    readonly seconds: number;
    readonly statesPerSecond: number;
    readonly eventsPerState: number;
    /** True when every reachable state was expanded (no bound or violation cut the search short). */
    readonly complete: boolean;
    readonly stoppedBy: 'violation' | 'max-states' | 'max-depth' | null;
  };
  readonly violations: ReadonlyArray<Violation<S, E>>;
  readonly deadlocks: ReadonlyArray<StateWitness<S, E>>;
  /** States from which no resting state can be reached (null: not computed, the search was incomplete). */
  readonly unrecoverable: ReadonlyArray<StateWitness<S, E>> | null;
  readonly coverage: {
    readonly states: { readonly total: number; readonly missing: readonly string[] };
    readonly transitions: { readonly total: number; readonly reached: number; readonly missing: readonly string[] };
  };
}

export function describeTransition(t: { source: string; eventType: string; guardName: string | null; target: string }): string {
  return `${t.source} --${t.eventType}${t.guardName ? ` [${t.guardName}]` : ''}--> ${t.target}`;
}

export function check<S extends MachineState<string, object>, E extends { readonly type: string }>(model: CheckModel<S, E>, options: CheckOptions = {}): CheckResult<S, E> {
  const started = process.hrtime.bigint();
  const { lifecycle, events, context } = model;
  const fingerprint = model.fingerprint ?? stateFingerprint;
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const maxStates = options.maxStates ?? 5_000_000;

  const states: S[] = [];
  const parent: number[] = [];
  const parentEvent: number[] = [];
  const depthOf: number[] = [];
  const index = new Map<string, number>();
  const edgeFrom: number[] = [];
  const edgeTo: number[] = [];
  const expanded: boolean[] = [];
  const transitionsTaken = new Set<(typeof lifecycle.transitions)[number]>();
  const violations = new Map<string, Violation<S, E>>();
  let transitions = 0;
  let stoppedBy: CheckResult<S, E>['stats']['stoppedBy'] = null;

  const pathTo = (i: number, last?: { event: E; state: S }): PathStep<S, E>[] => {
    const steps: PathStep<S, E>[] = last ? [last] : [];
    for (let at = i; parent[at]! >= 0; at = parent[at]!) steps.push({ event: events[parentEvent[at]!]!, state: states[at]! });
    return steps.reverse();
  };
  const report = (invariant: string, kind: 'state' | 'transition', message: string, path: () => PathStep<S, E>[]) => {
    const seen = violations.get(invariant);
    if (seen) {
      seen.count++;
      return;
    }
    violations.set(invariant, { invariant, kind, message, path: path(), initial: states[0]!, count: 1 });
    if (!options.continueOnViolation) stoppedBy = 'violation';
  };
  const add = (state: S, from: number, eventIndex: number, depth: number): number => {
    const key = fingerprint(state);
    const known = index.get(key);
    if (known !== undefined) return known;
    const i = states.length;
    states.push(state);
    parent.push(from);
    parentEvent.push(eventIndex);
    depthOf.push(depth);
    expanded.push(false);
    index.set(key, i);
    for (const inv of model.stateInvariants) {
      const problem = inv.check(state, context);
      if (problem !== undefined) report(inv.name, 'state', problem, () => pathTo(i));
    }
    return i;
  };

  add(lifecycle.initial as S, -1, -1, 0);
  let maxDepthSeen = 0;
  for (let head = 0; head < states.length && stoppedBy === null; head++) {
    const depth = depthOf[head]!;
    if (depth >= maxDepth) continue;
    const state = states[head]!;
    expanded[head] = true;
    for (let e = 0; e < events.length; e++) {
      const event = events[e]!;
      const result = lifecycle.step(state, event);
      if (result === undefined) continue;
      transitions++;
      transitionsTaken.add(result.transition);
      const next = result.state as S;
      for (const inv of model.transitionInvariants) {
        const problem = inv.check(state, event, next, context);
        if (problem !== undefined) report(inv.name, 'transition', problem, () => pathTo(head, { event, state: next }));
      }
      const to = add(next, head, e, depth + 1);
      if (depthOf[to]! > maxDepthSeen) maxDepthSeen = depthOf[to]!;
      edgeFrom.push(head);
      edgeTo.push(to);
      if (states.length >= maxStates && stoppedBy === null) stoppedBy = 'max-states';
      if (stoppedBy !== null) break;
    }
  }
  const unexpanded = expanded.some((x) => !x);
  if (stoppedBy === null && unexpanded) stoppedBy = 'max-depth';
  const complete = stoppedBy === null;

  // Deadlocks: expanded, not final, and no event of the scenario moves it.
  const outDegree = new Int32Array(states.length);
  for (let k = 0; k < edgeFrom.length; k++) outDegree[edgeFrom[k]!]!++;
  const deadlocks: StateWitness<S, E>[] = [];
  for (let i = 0; i < states.length; i++) {
    const value = states[i]!.value;
    if (expanded[i] && outDegree[i] === 0 && !lifecycle.finalStates.has(value) && !model.terminal?.has(value)) deadlocks.push({ state: states[i]!, path: pathTo(i) });
  }

  // Recoverability: walk the edges backwards from every resting state.
  let unrecoverable: StateWitness<S, E>[] | null = null;
  if (complete) {
    const start = new Int32Array(states.length + 1);
    for (let k = 0; k < edgeTo.length; k++) start[edgeTo[k]! + 1]!++;
    for (let i = 0; i < states.length; i++) start[i + 1]! += start[i]!;
    const fill = start.slice(0, states.length);
    const preds = new Int32Array(edgeTo.length);
    for (let k = 0; k < edgeTo.length; k++) preds[fill[edgeTo[k]!]!++] = edgeFrom[k]!;
    const recovers = new Uint8Array(states.length);
    const queue: number[] = [];
    for (let i = 0; i < states.length; i++) if (model.resting.has(states[i]!.value)) (recovers[i] = 1), queue.push(i);
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q]!;
      for (let p = start[i]!; p < start[i + 1]!; p++) {
        const from = preds[p]!;
        if (!recovers[from]) (recovers[from] = 1), queue.push(from);
      }
    }
    unrecoverable = [];
    for (let i = 0; i < states.length; i++) {
      if (!recovers[i] && !lifecycle.finalStates.has(states[i]!.value)) unrecoverable.push({ state: states[i]!, path: pathTo(i) });
    }
  }

  const reachedValues = new Set(states.map((s) => s.value));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    stats: {
      distinctStates: states.length,
      transitions,
      depth: maxDepthSeen,
      seconds,
      statesPerSecond: states.length / Math.max(seconds, 1e-9),
      eventsPerState: events.length,
      complete,
      stoppedBy,
    },
    violations: [...violations.values()],
    deadlocks,
    unrecoverable,
    coverage: {
      states: { total: lifecycle.states.length, missing: lifecycle.states.filter((s) => !reachedValues.has(s)) },
      transitions: {
        total: lifecycle.transitions.length,
        reached: transitionsTaken.size,
        missing: lifecycle.transitions.filter((t) => !transitionsTaken.has(t)).map(describeTransition),
      },
    },
  };
}
