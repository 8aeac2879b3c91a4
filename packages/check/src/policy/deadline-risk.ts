/**
 * Where the blast radius's default timing can give too low an answer (docs/model-checking.md, "Not so"): the search
 * has a device's health report come at least one tick after its apply report, and explores a failed apply only with
 * `--apply-failures`. That changes no answer while a ring's deadline cannot come before every device of the ring has
 * settled (verified, failed, timed out or set aside) and the ring has soaked: then every run decides its gate before
 * the deadline, however soon its reports come, and sooner reports only move the gate's time. A ring whose deadline can
 * come first could pass its gate in a real run where the search has the deadline halt it, and the next ring receive
 * the release: its figures are then lower bounds, and the command says so instead of giving them as the worst case.
 *
 * The bound is generous (whole ticks added for the orchestrator's rounding): a ring flagged may still be exact.
 */
import type { FleetPolicy } from '@hotpatch/fleet';

export interface DeadlineRisk {
  readonly ring: string;
  /** The ring's deadline, in hours after it starts. */
  readonly deadlineHours: number;
  /** By when every run has settled the ring's devices and soaked it, at the latest, in hours after it starts. */
  readonly settledHours: number;
}

export function deadlineRisks(policy: FleetPolicy, ringSizes: readonly number[], tickMinutes: number): DeadlineRisk[] {
  const risks: DeadlineRisk[] = [];
  policy.rings.forEach((ring, i) => {
    const size = ringSizes[i] ?? 0;
    const pace = policy.maxInstructionsPerTick ?? Number.POSITIVE_INFINITY;
    // The last device instructed, then its apply's timeout and its agent's silence after its last event, each seen
    // at a tick; and the soak.
    const lastInstructed = (Math.max(1, Math.ceil(size / pace)) - 1) * tickMinutes;
    const settled = Math.max(lastInstructed + policy.applyTimeoutMinutes + policy.silenceHours * 60 + 2 * tickMinutes, ring.gate.minSoakHours * 60 + tickMinutes);
    const deadline = ring.deadlineDays * 1440;
    if (deadline < settled + tickMinutes) risks.push({ ring: ring.name, deadlineHours: deadline / 60, settledHours: (settled + tickMinutes) / 60 });
  });
  return risks;
}

/**
 * Whether the default search's longest run before a halt may be shorter than a real one: an apply may be reported at
 * any tick before its timeout, which the default has at the next tick it visits (the ring's first apply, which that
 * time counts from, later than it can be); every timing visits each such tick.
 */
export const longestMayBeShort = (policy: FleetPolicy, tickMinutes: number) => policy.applyTimeoutMinutes > tickMinutes;
