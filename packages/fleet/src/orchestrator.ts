/**
 * The orchestrator: the core of a patching service, as a library. Built from a store, a clock and a policy, it turns
 * agent reports into device events and, on each tick, decides and records the next instructions of every rollout
 * (see orchestrator/: a shell around pure decisions).
 */
export { ReleaseConflictError, UnknownRingError, UnknownRolloutError, type AgentReport, type Orchestrator, type OrchestratorOptions, type ReportResult, type TickSummary } from './orchestrator/api.js';
export { cumulativeUpdateOf, releaseFromPlan, type ReleaseToRoll } from './orchestrator/release.js';
export { createOrchestrator } from './orchestrator/shell.js';
