export { simulatedClock, systemClock, type Clock, type SimulatedClock } from './clock.js';
export { DEFAULT_POLICY, PolicyError, validatePolicy, type FleetPolicy } from './policy.js';
export { FleetProjection, type DeviceRecord, type ReleaseRecord, type RolloutRecord } from './projection.js';
export { createOrchestrator, UnknownRolloutError, type AgentReport, type Orchestrator, type OrchestratorOptions, type ReleaseToRoll, type ReportResult, type TickSummary } from './orchestrator.js';
