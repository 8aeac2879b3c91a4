/** The rollout policy a service runs with (a policy file): its rings, matched to devices' `ring`, and its timeouts. */
import { compileSchema, InvalidDocumentError, PolicyRingsSchema, type Shape, Type } from '@hotpatch/core';

export const AFTER_FAILED_HOTPATCH = ['cumulative-update', 'next-release'] as const;

/** The policy's one definition: its type, its check (validatePolicy) and docs/schemas/policy.schema.json. */
export const FleetPolicySchema = Type.Object({
  $schema: Type.Optional(Type.String({ description: 'The JSON Schema this file follows (for editors); ignored.' })),
  rings: PolicyRingsSchema,
  applyTimeoutMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 525_600, description: 'A device still applying after this many minutes is timed out (counts as a failure) and rolled back.' }),
  silenceHours: Type.Number({ exclusiveMinimum: 0, maximum: 87_600, description: 'An instructed device whose agent has not been heard of for this many hours is set aside (not a failure).' }),
  maxInstructionsPerTick: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'At most this many devices instructed per ring per tick (default: all).' })),
  afterFailedHotpatch: Type.Optional(
    Type.Enum([...AFTER_FAILED_HOTPATCH], {
      description:
        "A device whose hotpatch did not take, in a ring that went on to prove the release: 'cumulative-update' (the default) restarts it onto the release's cumulative update, as Windows Update falls back to it; 'next-release' leaves it exposed until the next release reaches it, sparing the restart.",
    }),
  ),
}, { additionalProperties: false });
export type FleetPolicy = Shape<typeof FleetPolicySchema>;

export const DEFAULT_POLICY: FleetPolicy = {
  rings: [
    { name: 'pilot', deferralDays: 0, budget: { percent: 10 }, gate: { minVerifiedShare: 0.8, maxFailureRate: 0.1, minSoakHours: 24 }, deadlineDays: 5 },
    { name: 'broad', deferralDays: 3, budget: { percent: 5 }, gate: { minVerifiedShare: 0.9, maxFailureRate: 0.05, minSoakHours: 24 }, deadlineDays: 14 },
  ],
  applyTimeoutMinutes: 60,
  silenceHours: 48,
};

/** A policy that is not one (see InvalidDocumentError). */
export class PolicyError extends InvalidDocumentError {
  readonly code = 'INVALID_POLICY';
}

const policyCheck = compileSchema(FleetPolicySchema);

/** Checks a policy read from a file against FleetPolicySchema; throws PolicyError naming the first problem. */
export function validatePolicy(value: unknown, where = 'policy'): FleetPolicy {
  if (policyCheck.check(value)) return value;
  const { path, message } = policyCheck.problem(value)!;
  throw new PolicyError(where, path, message);
}
