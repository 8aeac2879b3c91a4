/**
 * What an agent reports, defined once as a schema: the AgentReport type, the check report() makes before anything is
 * decided, and docs/schemas/agent-report.schema.json.
 */
import type { TSchema } from 'typebox';
import { expecting, InvalidDocumentError, LOWER_UUID_PATTERN, NonEmptyString, type Shape, StreamIdSchema, taggedCheck, Text, Type } from '@hotpatch/core';

const report = <K extends string, F extends Record<string, TSchema>>(kind: K, fields: F) =>
  Type.Object(
    {
      kind: Type.Literal(kind),
      id: expecting('a lower-case UUID', Type.String({ pattern: LOWER_UUID_PATTERN, description: 'The report’s own id: the agent sends the same id when it retries.' })),
      device: StreamIdSchema,
      meta: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Recorded on the events (how long a restart took the device down, say).' })),
      ...fields,
    },
    { additionalProperties: false },
  );

/** The reports, by kind. */
export const AGENT_REPORTS = {
  applied: report('applied', { patch: NonEmptyString }),
  'apply-failed': report('apply-failed', { patch: NonEmptyString, reason: Text }),
  health: report('health', { patch: NonEmptyString, healthy: Type.Boolean(), signal: Type.Optional(Text) }),
  'rolled-back': report('rolled-back', { patch: NonEmptyString }),
  'rollback-failed': report('rollback-failed', { patch: NonEmptyString, reason: Text }),
  /**
   * The restart is done and the baseline (a cumulative update) installed. `healthy: false` says the device is not
   * well on it: the update fails the device's rollout, and is uninstalled (a restart back to the baseline it replaced).
   */
  'baseline-installed': report('baseline-installed', { baseline: NonEmptyString, healthy: Type.Optional(Type.Boolean()), signal: Type.Optional(Text) }),
};

const R = AGENT_REPORTS;
export const AgentReportSchema = Type.Union([R.applied, R['apply-failed'], R.health, R['rolled-back'], R['rollback-failed'], R['baseline-installed']]);
export type AgentReport = Shape<typeof AgentReportSchema>;

/** A report that is not one (its path and problem: see InvalidDocumentError); nothing decided, nothing written. */
export class InvalidReportError extends InvalidDocumentError {
  readonly code = 'INVALID_REPORT';
}

const reportProblem = taggedCheck('kind', AGENT_REPORTS);

/** Throws InvalidReportError naming the path of the report's first problem. */
export function checkReport(value: unknown): asserts value is AgentReport {
  const problem = reportProblem(value);
  if (problem !== undefined) throw new InvalidReportError('agent report', problem.path, problem.message);
}
