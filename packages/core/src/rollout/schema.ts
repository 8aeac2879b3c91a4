import { describe, field, type EventSchema } from '../schema.js';
import type { RolloutEventType } from './events.js';

const share = (v: unknown) => (typeof v === 'number' && v >= 0 && v <= 1 ? undefined : `expected a share from 0 to 1, got ${describe(v)}`);
const nonNegative = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : `expected a number ≥ 0, got ${describe(v)}`);

function ringPolicy(v: unknown, i: number): string | undefined {
  if (typeof v !== 'object' || v === null) return `ring ${i}: expected an object, got ${describe(v)}`;
  const r = v as Record<string, unknown>;
  if (typeof r.name !== 'string' || r.name === '') return `ring ${i}: name: expected a non-empty string`;
  for (const key of ['deferralDays', 'deadlineDays'] as const) {
    const p = nonNegative(r[key]);
    if (p) return `ring ${r.name}: ${key}: ${p}`;
  }
  const budget = r.budget as Record<string, unknown> | undefined;
  if (typeof budget !== 'object' || budget === null || ('count' in budget ? field.nonNegativeInt.check(budget.count) : 'percent' in budget ? nonNegative(budget.percent) ?? (Number(budget.percent) > 100 ? 'above 100' : undefined) : 'expected {count} or {percent}')) {
    return `ring ${r.name}: budget: expected {"count": n} or {"percent": p} with 0 ≤ p ≤ 100, got ${JSON.stringify(budget)}`;
  }
  const gate = r.gate as Record<string, unknown> | undefined;
  if (typeof gate !== 'object' || gate === null) return `ring ${r.name}: gate: expected an object`;
  const problem = share(gate.minVerifiedShare) ?? share(gate.maxFailureRate) ?? nonNegative(gate.minSoakHours);
  if (problem) return `ring ${r.name}: gate: ${problem} (minVerifiedShare and maxFailureRate are 0–1, minSoakHours ≥ 0)`;
  return undefined;
}

export const ROLLOUT_EVENT_SCHEMAS: { readonly [T in RolloutEventType]: EventSchema } = {
  RolloutPlanned: {
    release: field.nonEmptyString,
    releaseKind: field.oneOf('hotpatch', 'baseline'),
    releasedAt: field.isoTime,
    liveRevert: field.boolean,
    outOfBand: field.boolean,
    rings: field.custom((v) => {
      if (!Array.isArray(v) || v.length === 0) return `expected a non-empty array of rings, got ${describe(v)}`;
      const names = new Set<string>();
      for (let i = 0; i < v.length; i++) {
        const p = ringPolicy(v[i], i);
        if (p) return p;
        const name = (v[i] as { name: string }).name;
        if (names.has(name)) return `ring ${name} appears twice`;
        names.add(name);
      }
      return undefined;
    }),
    baseline: field.optional(field.nonEmptyString),
    requires: field.optional(field.stringArray),
    rebootReason: field.optional(field.nonEmptyString),
    cumulativeUpdate: field.optional(field.nonEmptyString),
    deferralsFrom: field.optional(field.isoTime),
  },
  RingStarted: { ring: field.nonEmptyString, at: field.isoTime, devices: field.nonNegativeInt },
  DeviceInstructed: { ring: field.nonEmptyString, device: field.nonEmptyString, action: field.oneOf('hotpatch', 'reboot') },
  DeviceSucceeded: { ring: field.nonEmptyString, device: field.nonEmptyString },
  DeviceFailed: { ring: field.nonEmptyString, device: field.nonEmptyString, reason: field.oneOf('apply-failed', 'health-failed', 'timeout', 'rollback-failed') },
  DeviceSetAside: { ring: field.nonEmptyString, device: field.nonEmptyString, reason: field.string, instructed: field.boolean },
  GatePassed: { ring: field.nonEmptyString, at: field.isoTime },
  RolloutPaused: { by: field.oneOf('service', 'tenant'), reason: field.string },
  RolloutResumed: { by: field.oneOf('service', 'tenant') },
  RolloutHalted: { reason: field.nonEmptyString, at: field.isoTime },
};
