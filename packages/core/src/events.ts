/** Any event of the log: a device's, a rollout's or a ring's (each kind's events live with its machine). */
import type { DeviceEvent } from './device/events.js';
import type { RingEvent } from './ring/events.js';
import type { RolloutEvent } from './rollout/events.js';

export type HotpatchEvent = DeviceEvent | RolloutEvent | RingEvent;
