export { simulate, simulationCatalog, type Arm, type SimulationOptions, type SimulationResult } from './simulate.js';
export { DEFAULT_FAULTS, type Faults } from './faults.js';
export { figuresFromLog, type ArmFigures } from './figures.js';
export { buildSimFleet, type SimDevice } from './fleet.js';
export { whatIf, ORDINARY_OUTCOMES, type RolloutOutcome, type Unrecorded, type WhatIfOptions, type WhatIfResult, type WhatIfSide } from './whatif/whatif.js';
export { failureShare, failureShareInterval } from './whatif/estimate.js';
