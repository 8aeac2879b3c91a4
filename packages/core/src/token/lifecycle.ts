import { compileEvolve, type CompiledLifecycle } from '../evolve.js';
import type { TokenContext, TokenEventBody, TokenStateValue } from './events.js';
import { tokenMachine } from './machine.js';

/** The token lifecycle compiled from `tokenMachine`. */
export const tokenLifecycle: CompiledLifecycle<TokenStateValue, TokenContext, TokenEventBody> = compileEvolve(tokenMachine);
