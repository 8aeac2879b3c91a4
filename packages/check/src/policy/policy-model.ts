/**
 * The rollout of one release under a fleet policy, as the orchestrator runs it (decide-tick.ts, decide-report.ts),
 * with every device free to succeed or fail and its agent free to report late or never. Rollout events go through
 * the rollout machine the library runs (`rolloutLifecycle`: its guards decide ring starts, budgets, halts and gates),
 * timeouts and silences through the fleet's own rules (`applyTimedOut`, `agentSilent`), ring openings through
 * `ringOpensAt`. What the orchestrator's tick does around them (its order, instruction pacing, the deadline halt) is
 * restated here by hand: see docs/model-checking.md, "Blast radius of a policy", and the test that runs the real
 * orchestrator on a counterexample's schedule.
 *
 * Time: ticks of `tickMinutes` from the release; the model visits only the ticks at which the orchestrator can act
 * otherwise than idly (a ring opening, a device to instruct, a cohort's timeout or silence, the soak's end, the
 * deadline) and lets reports arrive in the interval before such a tick, at its time.
 */
import { addDays, ringOpensAt, rolloutLifecycle, type RolloutEventBody, type RolloutState } from '@hotpatch/core';
import { agentSilent, applyTimedOut, silenceReason, type FleetPolicy } from '@hotpatch/fleet';
import { Run, type ModelState, type StepLabel, type Successor } from './model-run.js';
import { deadlineRisks } from './deadline-risk.js';
import { applied, appliedEarly, applying, CountingPopulation, inFlightTick, isApplied, isApplying, lastEventTick, PlainPopulation, type Local, type Population } from './population.js';

export type { Act, ModelState, StepLabel, Successor } from './model-run.js';

export interface PolicyModelOptions {
  readonly policy: FleetPolicy;
  /** Devices in each of the policy's rings, in order. */
  readonly ringSizes: readonly number[];
  /** The orchestrator's tick period (default 60: what simulate and the demo run). */
  readonly tickMinutes?: number;
  /** The release's time (default 2026-02-10T17:00Z, a Patch Tuesday), tick 0. */
  readonly releasedAt?: string;
  /** Whether applies may fail (reported, or timed out); default false: no figure gets worse (blast.test.ts). */
  readonly applyFailures?: boolean;
  /** Every timing of reports (default false): failed applies, health in its apply's interval, applies at every tick. */
  readonly everyTiming?: boolean;
  /** Track each device (the plain exploration) instead of counting devices per local state. */
  readonly plain?: boolean;
  /**
   * Keep of a ring whose gate passed only how many devices the release ran on unhealthy (default: true unless
   * `plain`); the search then keeps, of runs alike but for those counts, the one with the most (see blast.ts).
   */
  readonly summarize?: boolean;
  /**
   * Let the interval before a ring's soak ends take only the runs in which every device in flight reports (default:
   * true unless `plain`): the others are runs the next interval has, or halts it has later (see `soakReports`).
   */
  readonly reduce?: boolean;
}

const DEVICE = '·';

function deviceEvents(ring: string, silence: string) {
  const failed = (reason: 'apply-failed' | 'health-failed' | 'timeout'): RolloutEventBody => ({ type: 'DeviceFailed', data: { ring, device: DEVICE, reason } });
  const events = {
    instructed: { type: 'DeviceInstructed', data: { ring, device: DEVICE, action: 'hotpatch' } } as RolloutEventBody,
    succeeded: { type: 'DeviceSucceeded', data: { ring, device: DEVICE } } as RolloutEventBody,
    healthFailed: failed('health-failed'),
    applyFailed: failed('apply-failed'),
    timedOut: failed('timeout'),
    setAside: { type: 'DeviceSetAside', data: { ring, device: DEVICE, reason: silence, instructed: true } } as RolloutEventBody,
  };
  /** What a health report can do to a device: verify it or fail it; or, where only failures are explored, fail it. */
  const health: ReadonlyArray<readonly [Local, RolloutEventBody]> = [
    ['v', events.succeeded],
    ['fr', events.healthFailed],
  ];
  return { ...events, health, failure: health.slice(1) };
}

interface RingTicks {
  readonly startedAt: string;
  readonly start: number;
  readonly deadline: number;
  readonly soak: number;
}
const HOUR = 3_600_000;

export class PolicyModel {
  readonly policy: FleetPolicy;
  readonly sizes: readonly number[];
  readonly tickMs: number;
  readonly releasedAt: string;
  readonly applyFailures: boolean;
  readonly everyTiming: boolean;
  readonly plain: boolean;
  readonly summarize: boolean;
  readonly reduce: boolean;
  private readonly start: number;
  private readonly deadlines = new Map<string, { readonly tick: number; readonly kind: 'timeout' | 'silence' }>();
  /** `earlyApplies`'s rings. */
  private readonly earlyRings: ReadonlySet<number>;
  /** Each ring's device events (alike for every device: the model's devices are anonymous). */
  private readonly events: ReadonlyArray<ReturnType<typeof deviceEvents>>;

  constructor(o: PolicyModelOptions) {
    if (o.ringSizes.length !== o.policy.rings.length) throw new Error(`${o.ringSizes.length} ring sizes for ${o.policy.rings.length} rings`);
    this.policy = o.policy;
    this.sizes = o.ringSizes;
    this.tickMs = (o.tickMinutes ?? 60) * 60_000;
    this.releasedAt = o.releasedAt ?? '2026-02-10T17:00:00.000Z';
    this.start = Date.parse(this.releasedAt);
    this.everyTiming = o.everyTiming ?? false;
    this.applyFailures = this.everyTiming || (o.applyFailures ?? false);
    this.plain = o.plain ?? false;
    this.summarize = o.summarize ?? !this.plain;
    this.reduce = o.reduce ?? !this.plain;
    this.ringTickCache = this.sizes.map(() => new Map());
    this.lastRingTicks = this.sizes.map(() => undefined);
    this.events = this.policy.rings.map((r) => deviceEvents(r.name, silenceReason(this.policy)));
    const named = new Set(this.everyTiming ? deadlineRisks(this.policy, this.sizes, this.tickMs / 60_000).map((r) => r.ring) : []);
    this.earlyRings = new Set(this.policy.rings.flatMap((r, i) => (named.has(r.name) ? [i] : [])));
  }

  time(tick: number): number {
    return this.start + tick * this.tickMs;
  }
  private readonly isoCache = new Map<number, string>();
  iso(tick: number): string {
    let text = this.isoCache.get(tick);
    if (text === undefined) this.isoCache.set(tick, (text = new Date(this.time(tick)).toISOString()));
    return text;
  }
  /** The first tick at or after `ms`. */
  private tickAtOrAfter(ms: number): number {
    return Math.max(0, Math.ceil((ms - this.start) / this.tickMs));
  }

  planned(): RolloutEventBody {
    return {
      type: 'RolloutPlanned',
      data: { release: 'HP-MODEL', releaseKind: 'hotpatch', releasedAt: this.releasedAt, liveRevert: true, outOfBand: false, rings: this.policy.rings, baseline: 'B-MODEL', requires: [], cumulativeUpdate: 'LCU-HP-MODEL' },
    };
  }

  initial(): ModelState {
    const rollout = rolloutLifecycle.step(rolloutLifecycle.initial, this.planned())!.state as RolloutState;
    const of = (n: number) => (this.plain ? PlainPopulation.of(n) : CountingPopulation.of(n));
    return { t: -1, rollout, rings: this.sizes.map(of), firstApplied: this.sizes.map(() => null), haltedAt: null };
  }

  terminal(s: ModelState): boolean {
    return s.rollout.value === 'halted' || s.rollout.value === 'completed';
  }

  /** Whether the ring's devices in flight are one cohort (applied at one tick), with none applying: then reports can only verify or fail them, in any order. */
  private oneCohort(s: ModelState): boolean {
    if (s.rollout.value !== 'rolling') return false;
    let cohorts = 0;
    for (const [local] of s.rings[s.rollout.context.current]!.entries()) {
      if (isApplying(local)) return false;
      if (isApplied(local)) cohorts++;
    }
    return cohorts === 1;
  }

  /**
   * Whether `step` from `s` is a failure of the ring's one cohort in flight. Reports of one cohort commute (the
   * next tick, the time they come at, does not change while the cohort is in flight) and a failure past the budget
   * ends the run: every state a run of them reaches, it reaches with its successes first. So a state the search
   * reached only by such failures need not verify devices: the same counts come from verifying first.
   */
  failureOfOneCohort(s: ModelState, step: Successor): boolean {
    return step.label.kind === 'report' && step.label.to === 'fr' && this.oneCohort(s);
  }

  /** Whether nothing is left for the ring's devices to do (none waiting, none in flight): then the state has one successor, the tick that passes its gate or halts at its deadline. */
  decided(s: ModelState): boolean {
    if (s.rollout.value !== 'rolling') return false;
    const pop = s.rings[s.rollout.context.current]!;
    for (const [local] of pop.entries()) if (local === 'w' || isApplying(local) || isApplied(local)) return false;
    return true;
  }

  /**
   * When an in-flight device's agent is given up on: the first tick at which the orchestrator times its apply out
   * (`timeout`) or finds it silent (`silence`), by the fleet's own rules.
   */
  deadline(local: Local): { readonly tick: number; readonly kind: 'timeout' | 'silence' } {
    const known = this.deadlines.get(local);
    if (known !== undefined) return known;
    const base = lastEventTick(local)!;
    const lastEventAt = new Date(this.time(base)).toISOString();
    const timedOut = (tick: number) => isApplying(local) && applyTimedOut({ applyingSince: lastEventAt }, this.iso(tick), this.policy);
    const due = (tick: number) => timedOut(tick) || agentSilent({ lastEventAt }, this.iso(tick), this.policy);
    // Start at the tick the durations say (a year's timeout is 525,600 one-minute ticks: not to be walked one by
    // one), then let the rules decide: back while they already hold a tick sooner, on while they do not hold yet.
    const from = base + 1;
    const ticks = (ms: number) => base + Math.ceil(ms / this.tickMs);
    let tick = Math.max(from, Math.min(isApplying(local) ? ticks(this.policy.applyTimeoutMinutes * 60_000) : Infinity, ticks(this.policy.silenceHours * HOUR)));
    while (tick > from && due(tick - 1)) tick--;
    while (!due(tick)) tick++;
    const found = { tick, kind: timedOut(tick) ? ('timeout' as const) : ('silence' as const) };
    this.deadlines.set(local, found);
    return found;
  }

  /**
   * Whether an apply reported before `next` may be stamped with the tick before's instant (`q<τ>`): every timing, on a
   * ring deadline-risk.ts names, where that sooner silence comes by the deadline (elsewhere it only moves a gate).
   */
  private earlyApplies(s: ModelState, i: number, next: number): boolean {
    if (!this.earlyRings.has(i)) return false;
    const early = this.deadline(appliedEarly(next)).tick;
    return early !== this.deadline(applied(next)).tick && early <= this.ringTicks(i, s.rollout.context.rings[i]!.startedAt!).deadline;
  }

  /** Per ring: the ticks of each start seen, and the last one asked (nearly always the one asked next). */
  private readonly ringTickCache: Array<Map<string, RingTicks>>;
  private readonly lastRingTicks: Array<RingTicks | undefined>;
  /** The ticks of a ring's start, of its deadline and of the end of its soak, from when it started. */
  ringTicks(i: number, startedAt: string): RingTicks {
    const last = this.lastRingTicks[i];
    if (last !== undefined && last.startedAt === startedAt) return last;
    let ticks = this.ringTickCache[i]!.get(startedAt);
    if (ticks === undefined) {
      const policy = this.policy.rings[i]!;
      const start = Date.parse(startedAt);
      ticks = { startedAt, start: this.tickAtOrAfter(start), deadline: this.tickAtOrAfter(Date.parse(addDays(startedAt, policy.deadlineDays))), soak: this.tickAtOrAfter(start + policy.gate.minSoakHours * HOUR) };
      this.ringTickCache[i]!.set(startedAt, ticks);
    }
    this.lastRingTicks[i] = ticks;
    return ticks;
  }

  private inFlight(pop: Population): Array<readonly [Local, number]> {
    return pop.entries().filter(([l]) => isApplying(l) || isApplied(l));
  }

  /**
   * What the rest of a run depends on, as text: equal for states whose runs go on alike. With `summarize`, a ring
   * whose gate passed shows only that it passed: runs that differ in it alone go on alike, and the search keeps the
   * one whose settled rings hold the most unhealthy devices.
   */
  key(s: ModelState): string {
    const c = s.rollout.context;
    let key = `${s.t}|${s.rollout.value}|${c.current}|${s.haltedAt ?? ''}`;
    for (let i = 0; i < s.rings.length; i++) {
      const ring = c.rings[i]!;
      if (ring.startedAt === null) break; // nor any ring after it
      const start = this.ringTicks(i, ring.startedAt).start;
      key += this.summarize && ring.gatePassed ? `|${start}+` : `|${start}${ring.gatePassed ? '+' : ''}@${s.firstApplied[i] ?? ''}/${s.rings[i]!.key}`;
    }
    return key;
  }

  /** The next tick at which the orchestrator acts otherwise than idly, given no report before it. */
  nextTick(s: ModelState): number {
    const c = s.rollout.context;
    const after = s.t + 1;
    if (s.rollout.value === 'betweenRings') return Math.max(after, this.tickAtOrAfter(Date.parse(ringOpensAt(c, c.current + 1)!)));
    const i = c.current;
    const ring = c.rings[i]!;
    const policy = c.policies[i]!;
    const pop = s.rings[i]!;
    const { deadline, soak } = this.ringTicks(i, ring.startedAt!);
    let next = Math.max(after, deadline);
    const waiting = pop.count('w') > 0;
    if (waiting) next = Math.min(next, after);
    if (soak >= after) next = Math.min(next, soak);
    let flying = false;
    for (const [local] of pop.entries()) {
      if (!isApplying(local) && !isApplied(local)) continue;
      flying = true;
      // Every timing: every tick while applying (an apply at any one; silence and the longest count from it). The
      // default: the next tick acting (`longestMayBeShort`, deadline-risk.ts; docs, "Time").
      next = Math.min(next, this.everyTiming && isApplying(local) ? after : Math.max(after, this.deadline(local).tick));
    }
    if (!flying && !waiting) {
      // Nothing will change the ring's counters any more: the gate passes once it has soaked, or never.
      const gateAt = Math.max(after, soak);
      if (gateAt < next && rolloutLifecycle.step(s.rollout, { type: 'GatePassed', data: { ring: policy.name, at: this.iso(gateAt) } })) next = gateAt;
    }
    return next;
  }

  /**
   * The states a step leads to. `failuresOnly`: the state was reached, every way the search reached it, by a failure
   * of the ring's one cohort in flight (see `failureOfOneCohort`): its successes are left out. `acts`: whether to
   * record each step's acts (a witness's timeline needs them; the search does not).
   */
  successors(s: ModelState, failuresOnly = false, acts = true): Successor[] {
    if (this.terminal(s)) return [];
    const next = this.nextTick(s);
    const out: Successor[] = [];
    const i = s.rollout.context.current;
    const batches = this.reduce ? this.soakReports(s, next, acts) : undefined;
    if (batches !== undefined) out.push(...batches);
    else if (s.rollout.value === 'rolling') {
      const pop = s.rings[i]!;
      const events = this.events[i]!;
      const successes = !failuresOnly || !this.oneCohort(s);
      let applyMoves: ReadonlyArray<readonly [Local, RolloutEventBody | null]> | undefined; // the same for every applying state
      for (const [local] of this.inFlight(pop)) {
        // By default a health report comes in an interval after the one its apply report came in: one in the same
        // interval only halts sooner or moves a gate's time, unless the ring's deadline can come before it settles
        // (deadline-risk.ts; docs/model-checking.md, "Not so"). `everyTiming` explores it.
        if (!this.everyTiming && isApplied(local) && inFlightTick(local)! >= next) continue;
        const moves: ReadonlyArray<readonly [Local, RolloutEventBody | null]> = isApplying(local)
          ? (applyMoves ??= [[applied(next), null], ...(this.earlyApplies(s, i, next) ? [[appliedEarly(next), null] as const] : []), ...(this.applyFailures ? [['fn', events.applyFailed] as const] : [])])
          : successes
            ? events.health
            : events.failure;
        for (const device of pop.choices(local)) {
          for (const [to, event] of moves) {
            const r = new Run(this, s, next, s.t, acts);
            r.moveOne(i, local, to, event, device);
            out.push(r.done({ kind: 'report', ring: i, from: local, to, device }));
          }
        }
      }
    }
    const tick = this.tick(s, next, acts);
    if (tick !== undefined) out.push(tick);
    return out;
  }

  /**
   * The reports before the tick that ends the ring's soak, when that tick can do nothing but pass the gate (no
   * device to instruct, none applying, no timeout or silence due, the deadline later): every device in flight
   * reports, `f` of them failing, for each `f` within the budget. A run in which some device has not reported by then
   * is one the search has anyway: at that tick the orchestrator does nothing (the gate needs every report), so it is
   * the run in which those reports came in the next interval instead (the same state); a failure past the budget
   * before that tick halts the rollout with the same devices as it does in the next interval, only sooner. Undefined
   * when the interval is not such a one (docs/model-checking.md, "Reductions").
   */
  private soakReports(s: ModelState, next: number, acts: boolean): Successor[] | undefined {
    if (s.rollout.value !== 'rolling') return undefined;
    const c = s.rollout.context;
    const i = c.current;
    const ring = c.rings[i]!;
    const { deadline, soak } = this.ringTicks(i, ring.startedAt!);
    const pop = s.rings[i]!;
    if (next !== soak || next >= deadline || pop.count('w') > 0) return undefined;
    const flying = this.inFlight(pop);
    let reporting = 0;
    for (const [local, n] of flying) {
      if (!isApplied(local) || inFlightTick(local)! >= next || this.deadline(local).tick <= next) return undefined;
      reporting += n;
    }
    if (reporting === 0) return undefined;
    const out: Successor[] = [];
    for (let failed = 0; failed <= Math.min(reporting, ring.budget - ring.failed); failed++) {
      const r = new Run(this, s, next, s.t, acts);
      let verified = reporting - failed;
      for (const [local, n] of flying) {
        const v = Math.min(verified, n);
        verified -= v;
        r.moveMany(i, local, 'v', this.events[i]!.succeeded, v);
        r.moveMany(i, local, 'fr', this.events[i]!.healthFailed, n - v);
      }
      out.push(r.done({ kind: 'reports', ring: i, failed }));
    }
    return out;
  }

  /** The orchestrator's tick at `next` (decideTick's order), or undefined when an apply must be reported first. */
  private tick(s: ModelState, next: number, acts: boolean): Successor | undefined {
    if (!this.applyFailures && s.rollout.value === 'rolling') {
      // An apply that would time out must be reported first (a timeout is a failed apply); an agent silent before
      // its apply times out is silence, not a failed apply: set aside, it may have applied the release.
      const pop = s.rings[s.rollout.context.current]!;
      for (const [local] of pop.entries()) {
        if (!isApplying(local)) continue;
        const { tick, kind } = this.deadline(local);
        if (tick <= next && kind === 'timeout') return undefined;
      }
    }
    const r = new Run(this, s, next, next, acts);
    const at = this.iso(next);
    let c = r.rollout.context;
    if (r.rollout.value === 'betweenRings') {
      const ring = c.policies[c.current + 1]!;
      const opens = ringOpensAt(c, c.current + 1);
      if (opens !== null && at >= opens) r.record({ type: 'RingStarted', data: { ring: ring.name, at, devices: this.sizes[c.current + 1]! } });
    }
    if (r.rollout.value === 'rolling') {
      c = r.rollout.context;
      const i = c.current;
      const name = c.policies[i]!.name;
      const ring = c.rings[i]!;
      // Timeouts and silences among the devices in flight.
      for (const [local, n] of this.inFlight(r.rings[i]!)) {
        const { tick, kind } = this.deadline(local);
        if (tick > next) continue;
        if (kind === 'timeout') for (let k = 0; k < n; k++) r.moveOne(i, local, 'fn', this.events[i]!.timedOut);
        else r.moveMany(i, local, 'sr', this.events[i]!.setAside, n);
      }
      // New instructions, paced by the policy.
      const waiting = r.rings[i]!.count('w');
      if (r.rollout.value === 'rolling' && waiting > 0) {
        r.moveMany(i, 'w', applying(next), this.events[i]!.instructed, Math.min(waiting, this.policy.maxInstructionsPerTick ?? waiting));
      }
      if (r.rollout.value === 'rolling') {
        // The machine's gate needs every device reported (gateMet): with one in flight it is not asked.
        if (r.rollout.context.rings[i]!.inFlight === 0 && r.record({ type: 'GatePassed', data: { ring: name, at } })) {
          if (this.summarize) r.settle(i);
        } else if (next >= this.ringTicks(i, ring.startedAt!).deadline) r.record({ type: 'RolloutHalted', data: { reason: `${name}: gate not passed by its deadline`, at } });
      }
    }
    return r.done({ kind: 'tick', to: next });
  }
}
