export { check, describeTransition, type CheckModel, type CheckOptions, type CheckResult, type PathStep, type StateWitness, type Violation } from './explore.js';
export { canonical, stateFingerprint } from './fingerprint.js';
export { deviceStateInvariants, deviceTransitionInvariants, invariantContext, type InvariantContext, type StateInvariant, type TransitionInvariant } from './invariants.js';
export { DEFAULT_SCENARIO, loadScenario, scenarioEvents, ScenarioError, ScenarioSchema, validateScenario, type Scenario, type ScenarioHotpatch } from './scenario.js';
export { deviceCheckModel } from './device-model.js';
export { changes, formatPath, pathToTimeline, timelineText } from './counterexample.js';
export { DEFAULT_ROLLOUT_SCENARIO, rolloutCheckModel, rolloutStateInvariants, rolloutTransitionInvariants, type RolloutScenario } from './rollout-model.js';
export { ringCheckEvents, ringCheckModel, ringStateInvariants, ringTransitionInvariants } from './ring-model.js';
export { blastRadius, receivedBad, replayPath, type BlastOptions, type BlastResult, type Witness } from './policy/blast.js';
export { PolicyModel, type ModelState, type PolicyModelOptions, type StepLabel } from './policy/policy-model.js';
export { deviceName, MODEL_BASELINE, MODEL_RELEASE, witnessSchedule, witnessTimeline, type DeviceSchedule } from './policy/blast-timeline.js';
export {
  checkDeviceInvariants,
  CUSTOM_INVARIANTS,
  CustomInvariantSchema,
  CustomInvariantsSchema,
  describeInvariant,
  deviceInvariant,
  DEVICE_MACHINE_STATES,
  invariantName,
  InvariantError,
  InvariantsFileSchema,
  loadInvariants,
  validateInvariantsFile,
  type CustomInvariant,
} from './custom-invariants.js';
export { policyInvariants, POLICY_DEVICE_STATES, type PolicyInvariant } from './policy/policy-invariants.js';
export { deadlineRisks, longestMayBeShort, type DeadlineRisk } from './policy/deadline-risk.js';
