import { compileEvolve, type CompiledLifecycle } from '../evolve.js';
import type { RolloutContext, RolloutStateValue } from './context.js';
import type { RolloutEventBody } from './events.js';
import { rolloutMachine } from './machine.js';

/** The rollout lifecycle compiled from `rolloutMachine`. */
export const rolloutLifecycle: CompiledLifecycle<RolloutStateValue, RolloutContext, RolloutEventBody> = compileEvolve(rolloutMachine);
