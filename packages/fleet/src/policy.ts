/** The rollout policy a service runs with: its rings (matched to devices' `ring`), and its timeouts. */
import type { RingPolicy } from '@hotpatch/core';

export interface FleetPolicy {
  /** Rings in order. A device belongs to the ring named by its enrolment's `ring`. */
  readonly rings: readonly RingPolicy[];
  /** A device still applying after this many minutes is timed out (counts as a failure) and rolled back. */
  readonly applyTimeoutMinutes: number;
  /** An instructed device whose agent has not been heard of for this many hours is set aside (not a failure). */
  readonly silenceHours: number;
  /** At most this many devices instructed per ring per tick (default: all). */
  readonly maxInstructionsPerTick?: number;
  /**
   * A device whose hotpatch did not take (the apply failed, or stalled and was timed out), in a ring that went on to
   * prove the release: 'cumulative-update' (the default) restarts it onto the release's cumulative update, as
   * Windows Update falls back to it; 'next-release' leaves it exposed until the next release reaches it, sparing
   * the restart (and keeping it on the hotpatch track).
   */
  readonly afterFailedHotpatch?: 'cumulative-update' | 'next-release';
}

export const AFTER_FAILED_HOTPATCH = ['cumulative-update', 'next-release'] as const;

export const DEFAULT_POLICY: FleetPolicy = {
  rings: [
    { name: 'pilot', deferralDays: 0, budget: { percent: 10 }, gate: { minVerifiedShare: 0.8, maxFailureRate: 0.1, minSoakHours: 24 }, deadlineDays: 5 },
    { name: 'broad', deferralDays: 3, budget: { percent: 5 }, gate: { minVerifiedShare: 0.9, maxFailureRate: 0.05, minSoakHours: 24 }, deadlineDays: 14 },
  ],
  applyTimeoutMinutes: 60,
  silenceHours: 48,
};

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/** Checks a policy read from a file; throws PolicyError naming the first problem. */
export function validatePolicy(value: unknown, where = 'policy'): FleetPolicy {
  const fail = (msg: string): never => {
    throw new PolicyError(`${where}: ${msg}`);
  };
  if (typeof value !== 'object' || value === null) fail('expected a JSON object');
  const p = value as Record<string, unknown>;
  if (!Array.isArray(p.rings) || p.rings.length === 0) fail('rings: expected a non-empty array');
  const names = new Set<string>();
  (p.rings as unknown[]).forEach((r, i) => {
    const ring = (typeof r === 'object' && r !== null ? r : fail(`rings[${i}]: expected an object`)) as Record<string, unknown>;
    if (typeof ring.name !== 'string' || !ring.name) fail(`rings[${i}].name: expected a non-empty string`);
    if (names.has(ring.name as string)) fail(`rings[${i}].name: ${String(ring.name)} appears twice`);
    names.add(ring.name as string);
    for (const key of ['deferralDays', 'deadlineDays']) if (typeof ring[key] !== 'number' || (ring[key] as number) < 0) fail(`rings[${i}].${key}: expected a number ≥ 0`);
    const budget = ring.budget as Record<string, unknown> | undefined;
    if (!budget || (typeof budget.count !== 'number' && typeof budget.percent !== 'number')) fail(`rings[${i}].budget: expected {"count": n} or {"percent": p}`);
    const gate = ring.gate as Record<string, unknown> | undefined;
    if (!gate || typeof gate.minVerifiedShare !== 'number' || typeof gate.maxFailureRate !== 'number' || typeof gate.minSoakHours !== 'number') {
      fail(`rings[${i}].gate: expected {minVerifiedShare, maxFailureRate, minSoakHours}`);
    }
  });
  for (const key of ['applyTimeoutMinutes', 'silenceHours']) if (typeof p[key] !== 'number' || (p[key] as number) <= 0) fail(`${key}: expected a number > 0`);
  if (p.maxInstructionsPerTick !== undefined && (!Number.isSafeInteger(p.maxInstructionsPerTick) || (p.maxInstructionsPerTick as number) < 1)) {
    fail('maxInstructionsPerTick: expected a whole number ≥ 1');
  }
  if (p.afterFailedHotpatch !== undefined && !(AFTER_FAILED_HOTPATCH as readonly unknown[]).includes(p.afterFailedHotpatch)) {
    fail(`afterFailedHotpatch: expected ${AFTER_FAILED_HOTPATCH.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(p.afterFailedHotpatch)}`);
  }
  return value as FleetPolicy;
}
