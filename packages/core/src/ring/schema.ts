import { field, type EventSchema } from '../schema.js';
import type { RingEventType } from './events.js';

export const RING_EVENT_SCHEMAS: { readonly [T in RingEventType]: EventSchema } = {
  RingPaused: { by: field.oneOf('service', 'tenant'), reason: field.string },
  RingResumed: { by: field.oneOf('service', 'tenant') },
};
