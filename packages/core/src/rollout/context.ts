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
  /** Devices of the halted ring still in flight when it halted: failures may still arrive from them. */
  readonly inFlightAtHalt: number | null;
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
  inFlightAtHalt: null,
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

/** One ring of a rollout as people read it. */
export interface RingProgressView {
  readonly name: string;
  /** Devices in the ring, and failures it tolerates (0 until it starts). */
  readonly size: number;
  readonly budget: number;
  /** When it started; null until then. */
  readonly started: string | null;
  readonly inFlight: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly setAside: number;
  readonly gatePassed: boolean;
}

/** A rollout's progress as people read it (the fleet report's and replay's view of a rollout's state). */
export interface RolloutProgress {
  readonly rollout: string;
  /** The release it rolls out (its own id until it is planned). */
  readonly release: string;
  readonly state: RolloutStateValue;
  /** The ring in progress (or the next, between rings); null before the first. */
  readonly ring: string | null;
  /** Who holds it paused (tenant, service). */
  readonly pausedBy: readonly PauseParty[];
  readonly haltReason: string | null;
  /**
   * Halted: the devices of the halted ring that were in flight when it halted (past its budget: the one whose
   * failure halted it among them). Their failures still count when they come: the ring's failures stay within its
   * budget plus this many (a model-checked invariant). Null unless halted.
   */
  readonly inFlightAtHalt: number | null;
  readonly rings: readonly RingProgressView[];
}

export function rolloutProgress(rollout: string, { value, context: c }: RolloutState): RolloutProgress {
  return {
    rollout,
    release: c.release ?? rollout,
    state: value,
    ring: c.policies[c.current]?.name ?? null,
    pausedBy: c.pausedBy,
    haltReason: c.haltReason,
    inFlightAtHalt: value === 'halted' ? c.inFlightAtHalt : null,
    rings: c.policies.map((policy, i) => {
      const ring = c.rings[i]!;
      return { name: policy.name, size: ring.size, budget: ring.budget, started: ring.startedAt, inFlight: ring.inFlight, succeeded: ring.succeeded, failed: ring.failed, setAside: ring.setAside, gatePassed: ring.gatePassed };
    }),
  };
}
