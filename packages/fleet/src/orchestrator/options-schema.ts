/** The orchestrator's options, checked before anything starts: the policy against its schema, the rest against theirs. */
import { compileSchema, InvalidDocumentError, Type } from '@hotpatch/core';
import { validatePolicy } from '../policy.js';
import type { OrchestratorOptions } from './api.js';

/** The options that are data (the store and the clock are objects with methods, checked by what they hold). */
export const OrchestratorSettingsSchema = Type.Object({
  meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  instructionsPerUnit: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  gatherReports: Type.Optional(Type.Boolean()),
  checkpoint: Type.Optional(Type.Object({ name: Type.String({ minLength: 1 }), every: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })) }, { additionalProperties: false })),
});

/** Options that are not usable (the path of the first problem: see InvalidDocumentError). */
export class InvalidOptionsError extends InvalidDocumentError {
  readonly code = 'INVALID_OPTIONS';
}

const settingsCheck = compileSchema(OrchestratorSettingsSchema);

/** Throws PolicyError (the policy, at `policy.<path>`) or InvalidOptionsError naming the first problem. */
export function checkOptions(options: OrchestratorOptions): void {
  const { store, clock, policy, ...settings } = options as OrchestratorOptions & Record<string, unknown>;
  if (typeof store !== 'object' || store === null || typeof store.appendToStream !== 'function') throw new InvalidOptionsError('orchestrator options', 'store', 'expected an event store');
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') throw new InvalidOptionsError('orchestrator options', 'clock', 'expected a clock { now() }');
  validatePolicy(policy, 'orchestrator options: policy');
  const problem = settingsCheck.problem(settings);
  if (problem !== undefined) throw new InvalidOptionsError('orchestrator options', problem.path, problem.message);
}
