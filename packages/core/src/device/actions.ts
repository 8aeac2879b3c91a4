/**
 * The lifecycle's context updates. Each is a pure function of (context, event) giving the fields that change;
 * the machine wraps them in `assign`, and `evolve` calls the same functions.
 */
import type { DeviceEventBody, DeviceEventData } from './events.js';
import { appliedSet, type DeviceContext } from './context.js';

type Of<T extends keyof DeviceEventData> = Extract<DeviceEventBody, { type: T }>;
export interface UpdateArgs<E extends DeviceEventBody = DeviceEventBody> {
  readonly context: DeviceContext;
  readonly event: E;
}
type Update<E extends DeviceEventBody> = (args: UpdateArgs<E>) => Partial<DeviceContext>;

export const enrol: Update<Of<'DeviceEnrolled'>> = ({ event: { data } }) => ({
  profile: {
    edition: data.edition,
    build: data.build,
    arch: data.arch,
    vbs: data.vbs,
    tpm2: data.tpm2,
    secureBoot: data.secureBoot,
    chpeDisabled: data.chpeDisabled,
  },
  ring: data.ring,
  baseline: data.baseline,
});

export const recordEligibility: Update<Of<'EligibilityAssessed'>> = ({ event: { data } }) => ({
  eligible: data.eligible,
  ineligibleReasons: data.eligible ? [] : data.reasons,
});

/** Stage: the patch goes in flight, and the set active now becomes the restore point. */
export const stage: Update<Of<'PatchStaged'>> = ({ context, event: { data } }) => ({
  inFlight: { patch: data.patch, baseline: data.baseline, requires: data.requires, liveRevert: data.liveRevert },
  restorePoint: context.applied,
  rollbackable: null,
  verifiedPatch: null,
  failure: null,
});

/**
 * Apply, atomically: the patch joins the active set together with its requirement closure. Staging required
 * every requirement to be active already, so the closure is the active set plus this patch.
 */
export const applyPatch: Update<Of<'PatchApplied'>> = ({ context }) => {
  const patch = context.inFlight!;
  return { applied: appliedSet(context.applied, patch) };
};

export const recordFailure: Update<Of<'PatchApplyFailed'> | Of<'HealthCheckFailed'>> = ({ event }) => ({
  failure: event.type === 'PatchApplyFailed' ? `apply failed: ${event.data.reason}` : `health check failed: ${event.data.signal}`,
});

/** Verified: nothing is in flight any more; the patch stays rollbackable until the next one is staged. */
export const verify: Update<Of<'PatchVerified'>> = ({ context }) => ({
  verifiedPatch: context.inFlight!.patch,
  rollbackable: context.inFlight,
  inFlight: null,
});

/** Rolling back a verified patch puts it back in flight. */
export const reopenVerified: Update<Of<'RollbackStarted'>> = ({ context }) => ({
  inFlight: context.rollbackable,
  rollbackable: null,
});

/** A live rollback restores exactly the restore point. */
export const restore: Update<Of<'PatchRolledBack'>> = ({ context }) => ({
  applied: context.restorePoint ?? appliedSet(),
  inFlight: null,
  failure: null,
});

export const failRollback: Update<Of<'RollbackFailed'>> = ({ event }) => ({
  inFlight: null,
  rebootReason: 'rollback-failed',
  failure: `rollback failed: ${event.data.reason}`,
});

/** A reboot becomes pending; whatever was in flight is dropped (it stays active in memory until the reboot). */
export const requireReboot: Update<Of<'RebootRequired'>> = ({ context, event: { data } }) => ({
  inFlight: null,
  rollbackable: null,
  rebootReason: context.rebootReason ?? data.reason,
  rebootBaseline: data.baseline ?? context.rebootBaseline,
});

/** After the reboot: the new baseline, no hotpatch active, nothing pending. */
export const installBaseline: Update<Of<'BaselineInstalled'>> = ({ event: { data } }) => ({
  baseline: data.baseline,
  applied: appliedSet(),
  inFlight: null,
  restorePoint: null,
  rollbackable: null,
  verifiedPatch: null,
  failure: null,
  rebootReason: null,
  rebootBaseline: null,
});
