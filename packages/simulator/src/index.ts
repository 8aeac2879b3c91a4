export { simulate, simulationCatalog, type Arm, type SimulationOptions, type SimulationResult } from './simulate.js';
export { DEFAULT_FAULTS, faultAnswers, faultDelivery, type Faults } from './faults.js';
export { figuresFromLog, type ArmFigures } from './figures.js';
export { buildSimFleet, type SimDevice } from './fleet.js';
export { whatIf, type RolloutOutcome, type WhatIfOptions, type WhatIfResult, type WhatIfSide } from './whatif/whatif.js';
export type { Unrecorded } from './whatif/recorded-answers.js';
export { failureShare, failureShareInterval } from './whatif/estimate.js';
export { deviceAgent, type Agent, type AgentDevice, type AnswerSource, type ApplyAnswer, type Delivery, type HealthAnswer, type ReportBody, type RestartAnswer, type RollbackAnswer, type Send } from './agent.js';
export { ORDINARY_OUTCOMES, ordinaryAnswers, scriptedAnswers } from './scripted-answers.js';
