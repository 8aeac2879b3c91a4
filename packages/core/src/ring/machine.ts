/**
 * The ring lifecycle (stream `ring/<name>`), an xstate v5 machine like the device and rollout lifecycles: flat
 * states, named guards, assign actions only, so that evolve, the stores, replay and the model checker take it as
 * they take the others. A stream with no events is an open ring.
 */
import { assign, setup } from 'xstate';
import type { PauseParty } from '../rollout/events.js';
import { initialRingContext, type RingContext, type RingEventBody } from './events.js';

type Of<T extends RingEventBody['type']> = Extract<RingEventBody, { type: T }>;
export interface RingGuardArgs<E extends RingEventBody = RingEventBody> {
  readonly context: RingContext;
  readonly event: E;
}
type Guard<E extends RingEventBody> = (args: RingGuardArgs<E>) => boolean;
type Update<E extends RingEventBody> = (args: RingGuardArgs<E>) => Partial<RingContext>;

/** The party resuming holds a pause on the ring. The service cannot lift the tenant's pause, nor the tenant the service's. */
export const holdsPause: Guard<Of<'RingResumed'>> = ({ context, event }) => context.holds.some((h) => h.by === event.data.by);
/** The party resuming holds the only pause on the ring: lifting it opens the ring. */
export const holdsLastPause: Guard<Of<'RingResumed'>> = ({ context, event }) => context.holds.length === 1 && context.holds[0]!.by === event.data.by;

const order = (by: PauseParty) => (by === 'service' ? 0 : 1);
/** The party's hold, added or with its new reason. */
export const hold: Update<Of<'RingPaused'>> = ({ context, event }) => ({
  holds: [...context.holds.filter((h) => h.by !== event.data.by), { by: event.data.by, reason: event.data.reason }].sort((a, b) => order(a.by) - order(b.by)),
});
/** Lifts only the resuming party's hold. */
export const lift: Update<Of<'RingResumed'>> = ({ context, event }) => ({ holds: context.holds.filter((h) => h.by !== event.data.by) });

type AnyGuard = (args: RingGuardArgs) => boolean;
const g = (fn: unknown): AnyGuard => fn as AnyGuard;
const a = (fn: unknown) => assign<RingContext, RingEventBody, undefined, RingEventBody, never>(fn as (args: RingGuardArgs) => Partial<RingContext>);

export const ringSetup = setup({
  types: { context: {} as RingContext, events: {} as RingEventBody },
  guards: { holdsPause: g(holdsPause), holdsLastPause: g(holdsLastPause) },
  actions: { hold: a(hold), lift: a(lift) },
});

export const ringMachine = ringSetup.createMachine({
  id: 'ring',
  initial: 'open',
  context: initialRingContext,
  states: {
    open: {
      on: { RingPaused: { target: 'paused', actions: 'hold' } },
    },
    paused: {
      on: {
        RingPaused: { actions: 'hold' },
        RingResumed: [
          { guard: 'holdsLastPause', target: 'open', actions: 'lift' },
          { guard: 'holdsPause', actions: 'lift' },
        ],
      },
    },
  },
});
