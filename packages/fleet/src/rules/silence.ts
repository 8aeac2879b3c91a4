/** The silence rule: a device whose agent has not been heard of for the policy's hours is set aside (not a failure). */
import type { FleetPolicy } from '../policy.js';

/** `now` as read last: a tick asks of every device in flight at one time, which is parsed once. */
let lastNow = '';
let lastNowMs = Number.NaN;

/** Whether the device's agent has been silent for the policy's hours or longer at `now` (its last event's time). */
export function agentSilent(device: { readonly lastEventAt: string }, now: string, policy: Pick<FleetPolicy, 'silenceHours'>): boolean {
  if (now !== lastNow) {
    lastNowMs = Date.parse(now);
    lastNow = now;
  }
  return lastNowMs - Date.parse(device.lastEventAt) >= policy.silenceHours * 3_600_000;
}

/** The reason recorded on the DeviceSetAside of a silent agent ("agent silent for 48 h"). */
export function silenceReason(policy: Pick<FleetPolicy, 'silenceHours'>): string {
  return `agent silent for ${policy.silenceHours} h`;
}
