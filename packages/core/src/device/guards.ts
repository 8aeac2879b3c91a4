/**
 * The lifecycle's rules, one named guard each. The machine references them by name; `evolve` runs the same
 * functions; a refusal names the guard that said no.
 */
import type { DeviceEventBody, DeviceEventData } from '../events.js';
import type { DeviceContext } from './context.js';

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
  event.data.requires.every((id) => id in context.applied);
/** The hotpatch is not already active. */
export const notAlreadyApplied: Guard<Of<'PatchStaged'>> = ({ context, event }) => !(event.data.patch in context.applied);
/** The event is about the patch in flight. */
export const isPatchInFlight: Guard<WithPatch> = ({ context, event }) => context.inFlight?.patch === event.data.patch;
/** The patch in flight is the one named and can be reverted live. */
export const inFlightLiveRevertible: Guard<WithPatch> = ({ context, event }) =>
  context.inFlight?.patch === event.data.patch && context.inFlight.liveRevert;
/** The verified patch named can still be reverted live. */
export const verifiedLiveRevertible: Guard<WithPatch> = ({ context, event }) =>
  context.rollbackable?.patch === event.data.patch && context.rollbackable.liveRevert;

/** A conjunction of named guards that remembers its parts, so that a refusal can name the one that failed. */
export interface NamedConjunction<E extends DeviceEventBody> {
  (args: GuardArgs<E>): boolean;
  readonly parts: ReadonlyArray<readonly [string, Guard<E>]>;
}

export function allOf<E extends DeviceEventBody>(parts: Record<string, Guard<E>>): NamedConjunction<E> {
  const list = Object.entries(parts) as Array<[string, Guard<E>]>;
  const check = (args: GuardArgs<E>): boolean => {
    for (let i = 0; i < list.length; i++) if (!list[i]![1](args)) return false;
    return true;
  };
  return Object.assign(check, { parts: list });
}

/** Everything staging a hotpatch requires. */
export const canStage = allOf<Of<'PatchStaged'>>({
  deviceIsEligible,
  onPatchBaseline,
  nothingInFlight,
  noRebootPending,
  requirementsApplied,
  notAlreadyApplied,
});

/** Explains why a guard said no: the first failing part of a conjunction, or the guard itself. */
export function failingRule(name: string, guard: unknown, args: GuardArgs): string {
  const parts = (guard as Partial<NamedConjunction<DeviceEventBody>>).parts;
  if (parts) for (const [part, check] of parts) if (!check(args)) return part;
  return name;
}
