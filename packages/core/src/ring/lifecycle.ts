import { compileEvolve, type CompiledLifecycle } from '../evolve.js';
import type { RingContext, RingEventBody, RingStateValue } from './events.js';
import { ringMachine } from './machine.js';

/** The ring lifecycle compiled from `ringMachine`. */
export const ringLifecycle: CompiledLifecycle<RingStateValue, RingContext, RingEventBody> = compileEvolve(ringMachine);
