import type { ReleaseKind } from '../catalog.js';
import type { PauseParty, RingPolicy } from './events.js';

/** Where a ring stands. Counts are bounded by the ring's size, so a rollout has finitely many states. */
export interface RingProgress {
  readonly size: number;
  /** Failures tolerated, resolved from the policy when the ring starts. */
  readonly budget: number;
  readonly startedAt: string | null;
  readonly inFlight: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly setAside: number;
  readonly gatePassed: boolean;
}

export interface RolloutContext {
  readonly release: string | null;
  readonly releaseKind: ReleaseKind | null;
  readonly releasedAt: string | null;
  /** When the rings' deferrals count from, when not from `releasedAt` (an out-of-band release: see RolloutPlanned). */
  readonly deferralsFrom: string | null;
  readonly liveRevert: boolean;
  readonly outOfBand: boolean;
  readonly policies: readonly RingPolicy[];
  readonly rings: readonly RingProgress[];
  /** Index of the ring in progress, or of the next one between rings; -1 before the first. */
  readonly current: number;
  /** Who has paused the rollout; it resumes when nobody has. */
  readonly pausedBy: readonly PauseParty[];
  /** Where a resume returns to. */
  readonly resumeTo: 'rolling' | 'betweenRings' | null;
  readonly haltReason: string | null;
  /**
   * What the halt saw of the ring it halted in (index `ring`), right after the halting event: its outcomes so far
   * and its devices still in flight, from which outcomes may still arrive. Null unless halted, or when it halted
   * before its first ring started.
   */
  readonly atHalt: HaltCounts | null;
}

/** A ring's outcomes and devices in flight at one moment: what a halt records of the ring it halted in. */
export interface HaltCounts {
  readonly ring: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly setAside: number;
  readonly inFlight: number;
}

export const initialRolloutContext: RolloutContext = {
  release: null,
  releaseKind: null,
  releasedAt: null,
  deferralsFrom: null,
  liveRevert: true,
  outOfBand: false,
  policies: [],
  rings: [],
  current: -1,
  pausedBy: [],
  resumeTo: null,
  haltReason: null,
  atHalt: null,
};

export const ROLLOUT_STATES = ['unplanned', 'betweenRings', 'rolling', 'paused', 'halted', 'completed'] as const;
export type RolloutStateValue = (typeof ROLLOUT_STATES)[number];

export interface RolloutState {
  readonly value: RolloutStateValue;
  readonly context: RolloutContext;
}

/** Failures a ring tolerates, from its policy and its size. */
export function resolveBudget(policy: RingPolicy, size: number): number {
  return 'count' in policy.budget ? policy.budget.count : Math.floor((policy.budget.percent / 100) * size);
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const hoursBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / HOUR;
export const addDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY).toISOString();

/**
 * When ring `index` may start, its deferral permitting (its turn also waits for the ring before it to pass its
 * gate): its deferral after the date deferrals count from, and never before the release. Null before the rollout
 * is planned.
 */
export function ringOpensAt(context: RolloutContext, index: number): string | null {
  const policy = context.policies[index];
  if (policy === undefined || context.releasedAt === null) return null;
  const opens = addDays(context.deferralsFrom ?? context.releasedAt, policy.deferralDays);
  return opens > context.releasedAt ? opens : context.releasedAt;
}

/**
 * One ring of a rollout as people read it. Every device the rollout instructed in the ring is in exactly one of
 * in flight, succeeded, failed, set aside and withdrawn (set aside also counts devices set aside before they were
 * instructed). The definitions are in docs/domain.md, "A rollout's figures".
 */
export interface RingProgressView {
  readonly name: string;
  /** Devices in the ring, counted when it starts; null before (the rollout's own events do not know them). */
  readonly size: number | null;
  /** Failures it tolerates, resolved from its size when it starts; null before. */
  readonly budget: number | null;
  /** When it started; null until then. */
  readonly started: string | null;
  /** Instructed, and the rollout awaits their outcome (in the ring a rollout halted in: none, see withdrawn). */
  readonly inFlight: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Set aside: their agents went silent; not counted against the budget. */
  readonly setAside: number;
  /**
   * The ring a rollout halted in: devices in flight at the halt that have no outcome since. The halt took the
   * release back off them (rolled back live where the patch allows it, a restart otherwise): no outcome is awaited,
   * though one still reported is counted. 0 in every other ring.
   */
  readonly withdrawn: number;
  readonly gatePassed: boolean;
}

/** A halted rollout's halt, as people read it: where, why, what it saw, and what came after it. */
export interface HaltView {
  /** The ring it halted in; null when it halted before its first ring started. */
  readonly ring: string | null;
  readonly reason: string;
  /**
   * That ring right after the halting event: its outcomes so far (the failure that halted it among them) and its
   * devices still in flight then, from which outcomes may still come.
   */
  readonly atHalt: { readonly succeeded: number; readonly failed: number; readonly setAside: number; readonly inFlight: number };
  /** Outcomes recorded after the halt, each from a device in flight at the halt: the ring's counts less atHalt's. */
  readonly sinceHalt: { readonly succeeded: number; readonly failed: number; readonly setAside: number };
}

/** A rollout's progress as people read it (the fleet report's and replay's view of a rollout's state). */
export interface RolloutProgress {
  readonly rollout: string;
  /** The release it rolls out (its own id until it is planned). */
  readonly release: string;
  readonly state: RolloutStateValue;
  /** The ring in progress (or the next, between rings; the one it halted in, halted); null before the first. */
  readonly ring: string | null;
  /** Who holds it paused (tenant, service). */
  readonly pausedBy: readonly PauseParty[];
  readonly haltReason: string | null;
  /**
   * Halted: where and why, what the halt saw of its ring and what was recorded since. Failures still count when
   * they come, but only from the devices in flight at the halt: a ring's failures stay within its failures at the
   * halt plus those devices (model-checked). Null unless halted.
   */
  readonly halt: HaltView | null;
  readonly rings: readonly RingProgressView[];
}

export function rolloutProgress(rollout: string, { value, context: c }: RolloutState): RolloutProgress {
  const at = value === 'halted' ? c.atHalt : null;
  return {
    rollout,
    release: c.release ?? rollout,
    state: value,
    ring: c.policies[c.current]?.name ?? null,
    pausedBy: c.pausedBy,
    haltReason: c.haltReason,
    halt: value !== 'halted' ? null : haltView(c),
    rings: c.policies.map((policy, i) => {
      const ring = c.rings[i]!;
      const started = ring.startedAt !== null;
      const withdrawn = at !== null && at.ring === i ? ring.inFlight : 0;
      return {
        name: policy.name,
        size: started ? ring.size : null,
        budget: started ? ring.budget : null,
        started: ring.startedAt,
        inFlight: ring.inFlight - withdrawn,
        succeeded: ring.succeeded,
        failed: ring.failed,
        setAside: ring.setAside,
        withdrawn,
        gatePassed: ring.gatePassed,
      };
    }),
  };
}

function haltView(c: RolloutContext): HaltView {
  const at = c.atHalt;
  const ring = at === null ? undefined : c.rings[at.ring];
  if (at === null || ring === undefined) {
    return { ring: null, reason: c.haltReason ?? '', atHalt: { succeeded: 0, failed: 0, setAside: 0, inFlight: 0 }, sinceHalt: { succeeded: 0, failed: 0, setAside: 0 } };
  }
  return {
    ring: c.policies[at.ring]!.name,
    reason: c.haltReason ?? '',
    atHalt: { succeeded: at.succeeded, failed: at.failed, setAside: at.setAside, inFlight: at.inFlight },
    sinceHalt: { succeeded: ring.succeeded - at.succeeded, failed: ring.failed - at.failed, setAside: ring.setAside - at.setAside },
  };
}
