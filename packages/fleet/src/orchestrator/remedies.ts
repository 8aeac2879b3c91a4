/** What reports and ticks both decide: a device's outcome in a rollout, a halt's rollbacks, the update for a failed hotpatch. */
import type { FailureReason, RolloutEventBody } from '@hotpatch/core';
import type { FleetPolicy } from '../policy.js';
import { isApplyTimeout } from '../rules/apply-timeout.js';
import type { Decision } from './decision.js';
import type { DeviceView, RolloutView } from './fleet-draft.js';
import type { SetDraft } from './overlay.js';
import { cumulativeUpdateOf, type ReleaseToRoll } from './release.js';

/** Whether a device whose hotpatch did not take gets the release's cumulative update (FleetPolicy.afterFailedHotpatch). */
export const remedyFailedHotpatches = (policy: FleetPolicy): boolean => (policy.afterFailedHotpatch ?? 'cumulative-update') === 'cumulative-update';

/** A device's outcome in a rollout, read from its state, or undefined while it is still in flight. */
export function outcomeOf(rollout: RolloutView, device: DeviceView, action: 'hotpatch' | 'reboot'): { ok: true } | { ok: false; reason: FailureReason } | undefined {
  const release = rollout.state.context.release!;
  if (action === 'reboot') return device.lastBaselineAt !== null && device.lastBaselineAt >= rollout.instructed.get(device.id)!.at ? { ok: true } : undefined;
  switch (device.outcomes.get(release)) {
    case 'verified':
      return { ok: true };
    case 'apply-failed':
      return { ok: false, reason: isApplyTimeout(device.applyFailures.get(release) ?? '') ? 'timeout' : 'apply-failed' };
    case 'health-failed':
      return { ok: false, reason: 'health-failed' };
    case 'rolled-back':
      // Rolled back on the service's order (a halt), not for a failure of its own: no outcome to count.
      return undefined;
    case 'rollback-failed':
      return { ok: false, reason: 'rollback-failed' };
    default:
      return undefined;
  }
}

/** Records the outcome of every instructed device that has one and is not recorded yet (or of `only`, after its report). */
export function reconcile(d: Decision, rollout: RolloutView, only?: string): number {
  let n = 0;
  // The devices still pending: not a scan of every device the rollout instructed.
  for (const id of only === undefined ? [...rollout.pending] : rollout.pending.has(only) ? [only] : []) {
    const instruction = rollout.instructed.get(id)!;
    if (rollout.outcomes.has(id)) continue;
    const device = d.fleet.device(id);
    if (!device) continue;
    const outcome = outcomeOf(rollout, device, instruction.action);
    if (!outcome) continue;
    const event: RolloutEventBody = outcome.ok
      ? { type: 'DeviceSucceeded', data: { ring: instruction.ring, device: id } }
      : { type: 'DeviceFailed', data: { ring: instruction.ring, device: id, reason: outcome.reason } };
    if (d.record(rollout.id, `outcome:${id}`, event)) n++;
  }
  return n;
}

/** Whether `patch` did not take on the device: its apply failed, or stalled and was timed out. */
export const didNotTake = (d: Decision, id: string, patch: string | null | undefined): boolean => patch != null && d.fleet.device(id)?.outcomes.get(patch) === 'apply-failed';

/**
 * The release's cumulative update, with a restart, for a device its hotpatch did not take on: one command (one id)
 * whichever path gives it, so it is given once.
 */
export const giveUpdateInstead = (d: Decision, id: string, release: ReleaseToRoll): boolean =>
  d.command(`remedy:${release.id}`, { type: 'RequireReboot', device: id, reason: 'hotpatch-failed', baseline: cumulativeUpdateOf(release) });

/**
 * A device whose hotpatch did not take where it cannot be reverted live must restart anyway (the engine set it to,
 * back to its baseline). When an earlier ring has already proved the release, that one restart goes onto the
 * release's cumulative update instead of a second one later (see the catch-up): the same command, so either gives it
 * once. In the first ring nothing has proved the release yet: the restart stays as it is.
 */
export function restartOntoUpdate(d: Decision, rollout: RolloutView, id: string): void {
  if (!remedyFailedHotpatches(d.policy) || rollout.state.value === 'halted') return;
  const planned = d.releases.of(rollout);
  const instruction = rollout.instructed.get(id);
  const device = d.fleet.device(id);
  if (planned?.kind !== 'hotpatch' || instruction?.action !== 'hotpatch' || device === undefined) return;
  const { value, context } = device.state;
  if (value !== 'needsReboot' || context.rebootReason !== 'not-live-revertible' || context.rebootBaseline !== null || !didNotTake(d, id, planned.id)) return;
  const ring = rollout.state.context.policies.findIndex((p) => p.name === instruction.ring);
  if (ring <= 0 || !rollout.state.context.rings[ring - 1]?.gatePassed) return;
  // A paused ring receives nothing new: the device restarts onto its baseline, and catches up once resumed.
  if (d.fleet.base.isRingPaused(device.ring)) return;
  giveUpdateInstead(d, id, planned);
}

/** Takes a cumulative update off a device: a restart back to the baseline it replaced (when that is known). */
export function uninstall(d: Decision, device: DeviceView, baseline: string): boolean {
  const back = device.previousBaseline;
  if (back === null || back === baseline || device.state.context.baseline !== baseline) return false;
  return d.command(`uninstall:${baseline}`, { type: 'RequireReboot', device: device.id, reason: 'update-uninstall', baseline: back });
}

/**
 * A halted rollout rolls back what its ring applied: live where the patch allows it, else a reboot. `only`: look at
 * that device alone (after its report), not at every device the halt is watching.
 */
export function rollBackIfHalted(d: Decision, rollout: RolloutView, only?: string): number {
  const s = rollout.state;
  if (s.value !== 'halted') return 0;
  const patch = s.context.release!;
  const action = s.context.releaseKind === 'baseline' ? 'reboot' : 'hotpatch';
  const watching = (key: string, which: 'hotpatch' | 'reboot') =>
    d.memory.watch(key, function* () {
      const ring = s.context.policies[s.context.current]?.name;
      for (const [id, instruction] of rollout.instructed) {
        if (instruction.ring !== ring) continue;
        // The cumulative update is also on the ring's devices whose hotpatch did not take and that restarted onto it
        // (see restartOntoUpdate).
        if (instruction.action === which || (which === 'reboot' && didNotTake(d, id, patch))) yield id;
      }
    });
  const watch = watching(rollout.id, action);
  if (action === 'reboot') return uninstallHalted(d, watch, patch, only);
  // The ring's devices that got the hotpatch's cumulative update instead (the same fix) have it taken off too.
  const planned = d.releases.of(rollout);
  let n = planned === undefined ? 0 : uninstallHalted(d, watching(`${rollout.id}\u0000reboot`, 'reboot'), cumulativeUpdateOf(planned), only);
  for (const id of only === undefined ? [...watch] : watch.has(only) ? [only] : []) {
    const device = d.fleet.device(id);
    const { value, context } = device?.state ?? { value: 'retired', context: null };
    const holds = (value === 'applied' && context?.inFlight?.patch === patch) || (value === 'verified' && context?.rollbackable?.patch === patch);
    // Staged or applying it, or rolling it back: it may hold it again (or fail its rollback) later. Otherwise it is
    // settled, and the halt stops watching it.
    if (!holds) {
      if (context?.inFlight?.patch !== patch) watch.delete(id);
      continue;
    }
    const done = s.context.liveRevert
      ? d.command(`halt-rollback:${rollout.id}`, { type: 'RollBack', device: id, patch, reason: `rollout ${rollout.id} halted: ${s.context.haltReason}` })
      : d.command(`halt-reboot:${rollout.id}`, { type: 'RequireReboot', device: id, reason: 'not-live-revertible' });
    if (done) n++;
  }
  return n;
}

/**
 * A halted rollout takes its cumulative update (a baseline, or a hotpatch's given instead of it) off the devices of
 * its ring that installed it (a restart back to the baseline it replaced); the ones still to restart onto it are
 * watched, and uninstalled once they have.
 */
function uninstallHalted(d: Decision, watch: SetDraft<string>, baseline: string, only?: string): number {
  let n = 0;
  for (const id of only === undefined ? [...watch] : watch.has(only) ? [only] : []) {
    const device = d.fleet.device(id);
    if (!device || device.state.value === 'retired') {
      watch.delete(id);
      continue;
    }
    const { value, context } = device.state;
    if (value === 'needsReboot') {
      // Restarting onto it (keep watching), or already on the way back from it (done).
      if (context.rebootBaseline !== baseline) watch.delete(id);
      continue;
    }
    watch.delete(id);
    if (context.baseline === baseline && uninstall(d, device, baseline)) n++;
  }
  return n;
}
