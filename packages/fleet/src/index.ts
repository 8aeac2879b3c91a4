export { simulatedClock, systemClock, type Clock, type SimulatedClock } from './clock.js';
export { DEFAULT_POLICY, PolicyError, validatePolicy, type FleetPolicy } from './policy.js';
export { catchUpProjection, FleetProjection, restoreSavedProjection, type DeviceRecord, type ReleaseRecord, type RolloutRecord } from './projection.js';
export { createOrchestrator, UnknownRolloutError, type AgentReport, type Orchestrator, type OrchestratorOptions, type ReleaseToRoll, type ReportResult, type TickSummary } from './orchestrator.js';
export { complianceOf, COMPLIANCE_ORDER, fleetStatus, quantile, type Compliance, type ExposureFigures, type FleetStatus, type RolloutProgress } from './report.js';
export { simulate, simulationCatalog, type Arm, type SimulationOptions, type SimulationResult } from './simulator/simulate.js';
export { DEFAULT_FAULTS, type Faults } from './simulator/faults.js';
export { figuresFromLog, type ArmFigures } from './simulator/figures.js';
export { buildSimFleet, type SimDevice } from './simulator/fleet.js';
