export { simulatedClock, systemClock, type Clock, type SimulatedClock } from './clock.js';
export { DEFAULT_POLICY, FleetPolicySchema, PolicyError, validatePolicy, type FleetPolicy } from './policy.js';
export { catchUpProjection, FleetProjection, restoreSavedProjection, type DeviceRecord, type ProjectionState, type ReleaseRecord, type RingPauseRecord, type RolloutRecord } from './projection.js';
export { emptyProjectionState } from './projection/records.js';
export { serializeProjection } from './projection/saved.js';
export { patchProjection, projectionSteps, stepProjection, type Patch, type ProjectionStep } from './projection/timeline.js';
export { createOrchestrator, cumulativeUpdateOf, releaseFromPlan, UnknownRingError, UnknownRolloutError, type AgentReport, type Orchestrator, type OrchestratorOptions, type ReleaseToRoll, type ReportResult, type TickSummary } from './orchestrator.js';
export { complianceOf, COMPLIANCE_ORDER, daysToProtection, fleetStatus, quantile, withRingSizes, type Compliance, type ExposureFigures, type FleetStatus, type RolloutProgress } from './report.js';
