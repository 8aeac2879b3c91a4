/**
 * One step of the policy model in the making (a tick, or reports): the machine steps it takes, the devices it moves
 * and the acts it records, all at one time; and the types of the model's states and steps.
 */
import { rolloutLifecycle, type RolloutEventBody, type RolloutState } from '@hotpatch/core';
import { isApplied, lastEventTick, settled, type Local, type Population } from './population.js';

export interface ModelState {
  /** The last tick the orchestrator ran (-1: none yet). */
  readonly t: number;
  readonly rollout: RolloutState;
  readonly rings: readonly Population[];
  /** The tick at which each ring's first device ran the release (its apply reported), or null. */
  readonly firstApplied: readonly (number | null)[];
  /** The time (ms) the rollout halted, or null. */
  readonly haltedAt: number | null;
}

/** One rollout event, with what it did to a ring's devices: `n` devices moved from `from` to `to` (the event then has no device yet). */
export interface Act {
  readonly at: number;
  readonly event: RolloutEventBody | null;
  readonly move?: { readonly ring: number; readonly from: Local; readonly to: Local; readonly n: number; readonly device?: number };
}

export type StepLabel =
  | { readonly kind: 'tick'; readonly to: number }
  | { readonly kind: 'report'; readonly ring: number; readonly from: Local; readonly to: Local; readonly device: number }
  /** Every device of the ring in flight reports, `failed` of them failing (the interval before the soak ends). */
  | { readonly kind: 'reports'; readonly ring: number; readonly failed: number };

export interface Successor {
  readonly label: StepLabel;
  readonly state: ModelState;
  readonly acts: readonly Act[];
  /** Each machine step taken: (before, event, after), for the transition invariants. */
  readonly steps: ReadonlyArray<readonly [RolloutState, RolloutEventBody, RolloutState]>;
  /** When it happened (ms). */
  readonly at: number;
  /** The state before a ring whose gate passed was summarised (`state` itself when none was): what custom invariants see. */
  readonly observed: ModelState;
}

/** One successor in the making: machine steps, device moves and the acts they record, all at time `next`. */
export class Run {
  /** The state so far, by parts: the arrays are copied at their first change. */
  rollout: RolloutState;
  rings: readonly Population[];
  private firstApplied: readonly (number | null)[];
  private haltedAt: number | null;
  private ringsCopied = false;
  readonly acts: Act[] = [];
  readonly steps: Array<readonly [RolloutState, RolloutEventBody, RolloutState]> = [];
  private readonly at: number;
  private readonly t: number;
  private observed: ModelState | undefined;
  constructor(
    private readonly model: { time(tick: number): number; readonly plain: boolean },
    from: ModelState,
    private readonly next: number,
    /** The tick the state is at after this step (`from.t` for reports, `next` for a tick). */
    t = from.t,
    /** Whether to record the acts (what a witness's timeline is written from); the search does without them. */
    private readonly recording = true,
  ) {
    this.rollout = from.rollout;
    this.rings = from.rings;
    this.firstApplied = from.firstApplied;
    this.haltedAt = from.haltedAt;
    this.t = t;
    this.at = model.time(next);
  }

  get state(): ModelState {
    this.ringsCopied = false; // the state shares the rings array: a later change copies it
    return { t: this.t, rollout: this.rollout, rings: this.rings, firstApplied: this.firstApplied, haltedAt: this.haltedAt };
  }

  /** A rollout event without a device, recorded if the machine takes it. */
  record(event: RolloutEventBody): boolean {
    const after = this.step(event);
    if (after !== undefined && this.recording) this.acts.push({ at: this.at, event });
    return after !== undefined;
  }

  private step(event: RolloutEventBody): RolloutState | undefined {
    const before = this.rollout;
    const after = rolloutLifecycle.step(before, event)?.state as RolloutState | undefined;
    if (after === undefined) return undefined;
    this.steps.push([before, event, after]);
    if (before.value !== 'halted' && after.value === 'halted') this.haltedAt = this.at;
    this.rollout = after;
    return after;
  }

  private setRing(ring: number, pop: Population): void {
    if (!this.ringsCopied) {
      this.rings = this.rings.slice();
      this.ringsCopied = true;
    }
    (this.rings as Population[])[ring] = pop;
  }

  private movePop(ring: number, from: Local, to: Local, n: number, device?: number) {
    this.setRing(ring, this.rings[ring]!.move(from, to, n, device));
    if (isApplied(to) && this.firstApplied[ring] === null) this.firstApplied = this.firstApplied.map((f, k) => (k === ring ? lastEventTick(to)! : f));
  }

  /** One device moved, and its event (if any) recorded: a device the machine refuses does not move. */
  moveOne(ring: number, from: Local, to: Local, event: RolloutEventBody | null, device?: number): void {
    if (event !== null && this.step(event) === undefined) return;
    this.movePop(ring, from, to, 1, device);
    if (this.recording) this.acts.push({ at: this.at, event, move: { ring, from, to, n: 1, ...(device !== undefined && device >= 0 ? { device } : {}) } });
  }

  /**
   * `n` devices moved by `n` equal events. The plain exploration steps the machine once per device; the counting
   * one steps it for the first and the last device and adds the first step's change to the ring's counters for the
   * ones between (the events are alike and their guards monotone in the counters: the test comparing both
   * explorations checks it).
   */
  moveMany(ring: number, from: Local, to: Local, event: RolloutEventBody, n: number): void {
    if (n <= 0) return;
    if (this.model.plain || n <= 2) {
      for (let k = 0; k < n; k++) this.moveOne(ring, from, to, event);
      return;
    }
    const before = this.rollout;
    if (this.step(event) === undefined) return;
    const first = this.rollout;
    const r0 = before.context.rings[ring]!;
    const r1 = first.context.rings[ring]!;
    const scaled = { ...r1 } as Record<string, unknown>;
    for (const key of Object.keys(r1) as Array<keyof typeof r1>) {
      const a = r0[key];
      const b = r1[key];
      if (typeof a === 'number' && typeof b === 'number') scaled[key] = b + (b - a) * (n - 2);
    }
    const rings = first.context.rings.slice();
    rings[ring] = scaled as unknown as typeof r1;
    this.rollout = { value: first.value, context: { ...first.context, rings } };
    if (this.step(event) === undefined) throw new Error(`the machine refused the last of ${n} ${event.type} events after taking the first`);
    this.movePop(ring, from, to, n);
    if (this.recording) this.acts.push({ at: this.at, event, move: { ring, from, to, n } });
  }

  /** Ring `ring`'s gate passed: what is left of its devices that matters (see `settled`). */
  settle(ring: number): void {
    this.observed ??= this.state;
    this.setRing(ring, settled(this.rings[ring]!));
  }

  done(label: StepLabel): Successor {
    const state = this.state;
    return { label, state, acts: this.acts, steps: this.steps, at: this.at, observed: this.observed ?? state };
  }
}
