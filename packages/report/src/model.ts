/**
 * What a report page receives: every number already computed in Node by the projections `status`, `history` and
 * `replay` use, embedded in the page as JSON. The page's script only draws it (src/page/). Types only: the page
 * imports them too, so this file must stay free of Node.
 */
import type { HaltView, RolloutProgress } from '@hotpatch/core';

/** Times in the page are milliseconds after `ReportData.base` (small integers, exact). */
export type Offset = number;

/**
 * One device's states over the report's window, as replay folds them: `steps` is flat, `[t0, s0, t1, s1, …]`, each
 * `s` an index into `ReportData.states`, the device's state after its events at `t` (one pair per change of state;
 * the first pair is its state when the window opens, at offset 0, or its first event in the window). Its state at
 * a time T is the last pair with t ≤ T (`replay --at T`); none before its first.
 */
export interface DeviceSteps {
  readonly id: string;
  readonly steps: readonly number[];
  /** When a rollout set it aside (its agent went silent), if it did. */
  readonly setAside?: Offset;
}

/** A ring's devices: a lane of the time axis, drawn per device, or aggregated when it has more than a few dozen. */
export interface RingLane {
  readonly ring: string;
  readonly devices: readonly DeviceSteps[];
}

/** A change a person reads on a rollout's axis: a ring started, a gate passed, a pause, a resume, a failure, the halt. */
export interface RolloutMark {
  readonly t: Offset;
  readonly kind: 'planned' | 'ringStarted' | 'gatePassed' | 'paused' | 'resumed' | 'ringPaused' | 'ringResumed' | 'failed' | 'setAside' | 'halted' | 'completed';
  readonly ring: string | null;
  readonly text: string;
  readonly device?: string;
  readonly by?: string;
  readonly reason?: string;
}

/** A ring's failures after each event that changed them (from the rollout's history), against its budget. */
export interface FailureSeries {
  readonly ring: string;
  readonly budget: number | null;
  readonly points: ReadonlyArray<readonly [t: Offset, failed: number]>;
}

/** A pause of the rollout, or of one of its rings whatever the release: who, why, from when to when. */
export interface PauseSpan {
  readonly scope: 'rollout' | 'ring';
  readonly ring: string | null;
  readonly by: string;
  readonly reason: string;
  readonly from: Offset;
  /** Null: still paused at the end of the window. */
  readonly to: Offset | null;
}

/** A ring's gate: what it asks, and when it passed (null: never). */
export interface GateCheck {
  readonly ring: string;
  readonly minVerifiedShare: number;
  readonly maxFailureRate: number;
  /** The most of the ring that may be set aside for the gate to pass; null: any. */
  readonly maxSetAsideShare: number | null;
  readonly minSoakHours: number;
  readonly deadlineDays: number;
  readonly passedAt: Offset | null;
}

/** What a halt did to one device in flight at it: its state then, and its steps after it. */
export interface HaltedDevice {
  readonly device: string;
  readonly stateAtHalt: string;
  readonly after: ReadonlyArray<{ readonly t: Offset; readonly state: string }>;
  /** Its outcome in the rollout: withdrawn (no outcome since the halt) or the outcome it still reported. */
  readonly outcome: 'withdrawn' | 'succeeded' | 'failed' | 'setAside';
}

export interface HaltSection {
  readonly t: Offset;
  readonly view: HaltView;
  readonly devices: readonly HaltedDevice[];
}

/** A rollout on the time axis. `progress` is `status --json`'s `rollouts[i]`, from the same function. */
export interface RolloutSection {
  readonly id: string;
  readonly progress: RolloutProgress;
  readonly lanes: readonly RingLane[];
  readonly marks: readonly RolloutMark[];
  readonly failures: readonly FailureSeries[];
  readonly pauses: readonly PauseSpan[];
  readonly gates: readonly GateCheck[];
  readonly halt: HaltSection | null;
}

/** One event of a device's history, as `history --device` gives it: the state before and after. */
export interface DeviceHistoryRow {
  readonly position: number;
  readonly t: Offset;
  readonly time: string;
  readonly event: string;
  readonly before: string | null;
  readonly after: string;
  readonly data: string;
}

export interface DeviceSection {
  readonly id: string;
  readonly ring: string | null;
  readonly band: DeviceSteps;
  readonly history: readonly DeviceHistoryRow[];
}

/** The lifecycle drawn from the machine: its states placed in columns, and every transition. */
export interface LifecycleDiagram {
  readonly initial: string;
  readonly nodes: ReadonlyArray<{ readonly state: string; readonly x: number; readonly y: number }>;
  readonly edges: ReadonlyArray<{ readonly source: string; readonly target: string; readonly events: readonly string[] }>;
}

/** A what-if run of the same releases under another policy, drawn beside the recorded one on the same axes. */
export interface WhatIfSection {
  readonly policy: string;
  readonly rollout: RolloutSection | null;
  readonly fleet: readonly RingLane[];
}

export interface ReportData {
  readonly kind: 'rollout' | 'device' | 'fleet';
  readonly title: string;
  /** The log it was made from, as the CLI names it. */
  readonly source: string;
  /** Time zero of every offset (ISO-8601 UTC). */
  readonly base: string;
  /** The time axis: [from, to] as offsets. */
  readonly window: readonly [from: Offset, to: Offset];
  /** Device state names; `DeviceSteps` index into it. */
  readonly states: readonly string[];
  readonly lifecycle: LifecycleDiagram;
  readonly rollout: RolloutSection | null;
  readonly device: DeviceSection | null;
  /** Every device of the fleet by ring (fleet report), or of the rollout's rings (rollout report: `rollout.lanes`). */
  readonly fleet: readonly RingLane[];
  readonly whatIf: WhatIfSection | null;
}
