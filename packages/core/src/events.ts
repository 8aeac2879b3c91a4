/** Any event of the log: a device's, a rollout's, a ring's, a token's or a seal (each kind's events live with its machine). */
import type { DeviceEvent } from './device/events.js';
import type { RingEvent } from './ring/events.js';
import type { RolloutEvent } from './rollout/events.js';
import type { SealEvent } from './seal/events.js';
import type { TokenEvent } from './token/events.js';

export type HotpatchEvent = DeviceEvent | RolloutEvent | RingEvent | TokenEvent | SealEvent;
