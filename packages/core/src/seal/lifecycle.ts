import { compileEvolve, type CompiledLifecycle } from '../evolve.js';
import type { SealContext, SealEventBody, SealStateValue } from './events.js';
import { sealMachine } from './machine.js';

/** The seal lifecycle compiled from `sealMachine`. */
export const sealLifecycle: CompiledLifecycle<SealStateValue, SealContext, SealEventBody> = compileEvolve(sealMachine);
