export { check, describeTransition, type CheckModel, type CheckOptions, type CheckResult, type PathStep, type StateWitness, type Violation } from './explore.js';
export { canonical, stateFingerprint } from './fingerprint.js';
export { deviceStateInvariants, deviceTransitionInvariants, invariantContext, type InvariantContext, type StateInvariant, type TransitionInvariant } from './invariants.js';
export { DEFAULT_SCENARIO, loadScenario, scenarioEvents, ScenarioError, ScenarioSchema, validateScenario, type Scenario, type ScenarioHotpatch } from './scenario.js';
export { deviceCheckModel } from './device-model.js';
export { changes, formatPath, pathToTimeline, timelineText } from './counterexample.js';
export { DEFAULT_ROLLOUT_SCENARIO, rolloutCheckModel, rolloutStateInvariants, rolloutTransitionInvariants, type RolloutScenario } from './rollout-model.js';
export { ringCheckEvents, ringCheckModel, ringStateInvariants, ringTransitionInvariants } from './ring-model.js';
