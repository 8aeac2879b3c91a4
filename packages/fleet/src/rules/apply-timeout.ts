/** The apply-timeout rule: an apply the agent never reports done is failed by the service after the policy's minutes. */
import type { FleetPolicy } from '../policy.js';

/** Why the service failed an apply itself: it ran past the policy's timeout (the agent never answered). */
export interface ApplyTimeout {
  readonly kind: 'apply-timeout';
  readonly afterMinutes: number;
}

const TIMED_OUT = 'timed out';

/** Whether a device's apply has run for the policy's timeout or longer at `now` (false when it is not applying). */
export function applyTimedOut(device: { readonly applyingSince: string | null }, now: string, policy: Pick<FleetPolicy, 'applyTimeoutMinutes'>): boolean {
  return device.applyingSince !== null && Date.parse(now) - Date.parse(device.applyingSince) >= policy.applyTimeoutMinutes * 60_000;
}

/** The reason recorded on the PatchApplyFailed of a timed-out apply ("timed out after 60 min"; logs hold this text). */
export function applyTimeoutReason(afterMinutes: number): string {
  return `${TIMED_OUT} after ${afterMinutes} min`;
}

/** The timeout a recorded apply failure's reason stands for; undefined when the agent reported the failure itself. */
export function parseApplyTimeout(reason: string): ApplyTimeout | undefined {
  if (!reason.startsWith(TIMED_OUT)) return undefined;
  const minutes = /^timed out after (\d+(?:\.\d+)?) min$/.exec(reason)?.[1];
  return { kind: 'apply-timeout', afterMinutes: minutes === undefined ? Number.NaN : Number(minutes) };
}

/** Whether a recorded apply failure was the service timing the apply out (known after a restart, or in a what-if). */
export function isApplyTimeout(reason: string): boolean {
  return parseApplyTimeout(reason) !== undefined;
}
