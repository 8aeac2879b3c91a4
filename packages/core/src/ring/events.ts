/**
 * A ring's own events (stream `ring/<name>`): pauses and resumes that hold the ring, whatever the release. Autopatch
 * pauses a ring, not a release: a paused ring receives nothing new, its out-of-band updates included, until every
 * party that paused it has lifted its pause; the service cannot lift the tenant's.
 */
import { Type } from '../typebox.js';
import type { EventBodyOf, EventOf } from '../envelope.js';
import { PausePartySchema, type PauseParty } from '../rollout/events.js';
import { Text, type Shape } from '../schema.js';

/** The data of each ring event type: the one definition of its fields. */
export const RING_EVENT_DATA = {
  RingPaused: Type.Object({ by: PausePartySchema, reason: Text }),
  RingResumed: Type.Object({ by: PausePartySchema }),
};

export type RingEventData = { readonly [T in keyof typeof RING_EVENT_DATA]: Shape<(typeof RING_EVENT_DATA)[T]> };

export type RingEventType = keyof RingEventData;

export const RING_EVENT_TYPES = ['RingPaused', 'RingResumed'] as const satisfies readonly RingEventType[];

export type RingEventBody = EventBodyOf<RingEventData>;

export type RingEvent = EventOf<RingEventData>;


/** Who holds the ring paused, and why (each party's latest reason), in party order; empty when it is open. */
export interface RingContext {
  readonly holds: ReadonlyArray<{ readonly by: PauseParty; readonly reason: string }>;
}

export const RING_STATES = ['open', 'paused'] as const;
export type RingStateValue = (typeof RING_STATES)[number];

export interface RingState {
  readonly value: RingStateValue;
  readonly context: RingContext;
}

export const initialRingContext: RingContext = { holds: [] };
