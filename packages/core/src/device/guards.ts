/**
 * The lifecycle's rules, one named guard each. The machine references them by name; `evolve` runs the same
 * functions; a refusal names the guard that said no.
 */
import type { DeviceEventBody, DeviceEventData } from './events.js';
import type { DeviceContext } from './context.js';
import { allOf } from '../rules.js';

export interface GuardArgs<E extends DeviceEventBody = DeviceEventBody> {
  readonly context: DeviceContext;
  readonly event: E;
}
type Guard<E extends DeviceEventBody = DeviceEventBody> = (args: GuardArgs<E>) => boolean;
type Of<T extends keyof DeviceEventData> = Extract<DeviceEventBody, { type: T }>;
type WithPatch = Extract<DeviceEventBody, { data: { patch: string } }>;

/** The device was last assessed eligible for hotpatching. */
export const deviceIsEligible: Guard = ({ context }) => context.eligible;
/** The assessment says the device is eligible. */
export const assessedEligible: Guard<Of<'EligibilityAssessed'>> = ({ event }) => event.data.eligible;
/** The hotpatch belongs to the baseline the device has installed. */
export const onPatchBaseline: Guard<Of<'PatchStaged'>> = ({ context, event }) => event.data.baseline === context.baseline;
/** No patch is in flight. */
export const nothingInFlight: Guard = ({ context }) => context.inFlight === null;
/** No reboot is pending. */
export const noRebootPending: Guard = ({ context }) => context.rebootReason === null;
/** Every hotpatch the staged one requires is already applied. */
export const requirementsApplied: Guard<Of<'PatchStaged'>> = ({ context, event }) =>
  event.data.requires.every((id) => Object.hasOwn(context.applied, id));
/** The hotpatch is not already active. */
export const notAlreadyApplied: Guard<Of<'PatchStaged'>> = ({ context, event }) => !Object.hasOwn(context.applied, event.data.patch);
/** The event is about the patch in flight. */
export const isPatchInFlight: Guard<WithPatch> = ({ context, event }) => context.inFlight?.patch === event.data.patch;
/** The patch in flight is the one named and can be reverted live. */
export const inFlightLiveRevertible: Guard<WithPatch> = ({ context, event }) =>
  context.inFlight?.patch === event.data.patch && context.inFlight.liveRevert;
/** The verified patch named can still be reverted live. */
export const verifiedLiveRevertible: Guard<WithPatch> = ({ context, event }) =>
  context.rollbackable?.patch === event.data.patch && context.rollbackable.liveRevert;

/** Everything staging a hotpatch requires. */
export const canStage = allOf<GuardArgs<Of<'PatchStaged'>>>({
  deviceIsEligible,
  onPatchBaseline,
  nothingInFlight,
  noRebootPending,
  requirementsApplied,
  notAlreadyApplied,
});

export { failingRule } from '../rules.js';
