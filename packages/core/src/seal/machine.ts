/**
 * The seal lifecycle (stream `seal/<name>`), an xstate v5 machine like the others: flat states, named guards, assign
 * actions only. A seal never covers less of the log than the seal before it.
 */
import { assign, setup } from 'xstate';
import { initialSealContext, type SealContext, type SealEventBody } from './events.js';

export interface SealGuardArgs {
  readonly context: SealContext;
  readonly event: SealEventBody;
}

/** The seal covers at least what the seal before it covered. */
export const coversNoLess = ({ context, event }: SealGuardArgs): boolean => event.data.position >= context.position;
/** One more seal, at its position, with its key. */
export const count = ({ context, event }: SealGuardArgs): Partial<SealContext> => ({ seals: context.seals + 1, position: event.data.position, keyId: event.data.keyId });

const a = assign<SealContext, SealEventBody, undefined, SealEventBody, never>(count);

export const sealSetup = setup({
  types: { context: {} as SealContext, events: {} as SealEventBody },
  guards: { coversNoLess },
  actions: { count: a },
});

export const sealMachine = sealSetup.createMachine({
  id: 'seal',
  initial: 'unsealed',
  context: initialSealContext,
  states: {
    unsealed: { on: { LogSealed: { target: 'sealed', actions: 'count' } } },
    sealed: { on: { LogSealed: { guard: 'coversNoLess', actions: 'count' } } },
  },
});
