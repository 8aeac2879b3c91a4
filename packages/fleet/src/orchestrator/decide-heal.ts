/**
 * Healing: an instruction is several appends (the device's `PatchStaged` and `PatchApplyStarted`, or its
 * `RebootRequired`, then the rollout's `DeviceInstructed`), all-or-nothing only where the store groups a unit of work
 * in one transaction. Where a unit was cut short between them (a process killed, a store without transactions, a log
 * written by an earlier version), a tick finds the gap and carries the instruction on, with the ids the unit would
 * have written, so that two instances heal it once; each step it writes says what it healed (`meta.healed`), which
 * the projection keeps for `hotpatch status`. See the fleet README, "Healing".
 */
import { RESTING_STATES } from '@hotpatch/core';
import { healedMeta } from '../projection/healed.js';
import type { Decision } from './decision.js';
import type { DeviceView, RolloutView } from './fleet-draft.js';
import { cumulativeUpdateOf, hotpatchOf, type ReleaseToRoll } from './release.js';

/**
 * A device of the rolling ring the rollout has neither instructed nor settled, which the log shows its instruction
 * began for (a unit cut short before the rollout recorded it): staged with the release (then its apply, which never
 * came), applying it or past that (an outcome for it), or restarting onto what the rollout gives it instead. Records
 * the instruction; whether it healed one.
 */
export function healUninstructed(d: Decision, rollout: RolloutView, ring: string, device: DeviceView, release: ReleaseToRoll): boolean {
  const { value, context } = device.state;
  const target = cumulativeUpdateOf(release);
  const startedAt = rollout.state.context.rings[rollout.state.context.current]?.startedAt ?? null;
  let gap: 'staged-without-instruction' | 'applying-without-instruction' | 'reboot-without-instruction';
  // Restarted onto it since the ring started (its agent answered before the instruction was healed): the instruction
  // and, as the restart is done, its outcome.
  let restarted = false;
  if (release.kind === 'hotpatch' && context.inFlight?.patch === release.id && value === 'staged') gap = 'staged-without-instruction';
  else if (release.kind === 'hotpatch' && (context.inFlight?.patch === release.id || device.outcomes.has(release.id))) gap = 'applying-without-instruction';
  else if (value === 'needsReboot' && context.rebootReason === rebootReasonOf(release) && context.rebootBaseline === target) gap = 'reboot-without-instruction';
  else if ((RESTING_STATES.includes(value) || value === 'ineligible') && context.baseline === target && startedAt !== null && device.lastBaselineAt !== null && device.lastBaselineAt >= startedAt) {
    gap = 'reboot-without-instruction';
    restarted = true;
  } else return false;
  const meta = healedMeta(gap, rollout.id);
  // The apply the unit would have written next (recorded since by another instance, or refused: the instruction is
  // recorded either way, as the unit would have).
  if (gap === 'staged-without-instruction') d.command(`apply:${rollout.id}`, { type: 'StartApply', device: device.id, patch: release.id }, meta);
  const action = gap === 'reboot-without-instruction' ? 'reboot' : 'hotpatch';
  const instructed = d.record(rollout.id, `instructed:${device.id}`, { type: 'DeviceInstructed', data: { ring, device: device.id, action } }, { meta });
  if (instructed && restarted) d.record(rollout.id, `outcome:${device.id}`, { type: 'DeviceSucceeded', data: { ring, device: device.id } }, { meta });
  return instructed;
}

/** Why the rollout's instruction restarts a device: its baseline's reason, or eligibility for a hotpatch's cumulative update. */
const rebootReasonOf = (release: ReleaseToRoll): string => (release.kind === 'baseline' ? (release.rebootReason ?? 'baseline') : 'eligibility');

/**
 * A device the rollout instructed that never got its steps (a log written by an earlier version, a store that kept the
 * rollout's append and not the device's): to take the hotpatch, and resting, eligible on its baseline, the release
 * neither in flight, nor active, nor with an outcome — staged and applied with the instruction's ids, or applied
 * when staged; to restart, and resting, not restarted since — asked to restart, with the instruction's id.
 * Whether it healed one.
 */
export function healInstructed(d: Decision, rollout: RolloutView, id: string, release: ReleaseToRoll): boolean {
  const device = d.fleet.device(id);
  const instruction = rollout.instructed.get(id);
  if (device === undefined || instruction === undefined) return false;
  const { value, context } = device.state;
  // The meta is made once a step is due: this runs for every device in flight at every tick.
  if (instruction.action === 'reboot') {
    // Told to restart and never asked to (its restart is the rollout's to see: one since the instruction succeeds it).
    const target = cumulativeUpdateOf(release);
    const restarted = device.lastBaselineAt !== null && device.lastBaselineAt >= instruction.at;
    if (restarted || !(RESTING_STATES.includes(value) || value === 'ineligible' || value === 'enrolled')) return false;
    return d.command(`reboot:${rollout.id}`, { type: 'RequireReboot', device: id, reason: rebootReasonOf(release), baseline: target }, healedMeta('instruction-without-step', rollout.id));
  }
  if (release.kind !== 'hotpatch' || device.outcomes.has(release.id)) return false;
  // Staged with it, its apply missing; or resting, eligible on its baseline, without it.
  const applyDue = value === 'staged';
  if (applyDue ? context.inFlight?.patch !== release.id : !RESTING_STATES.includes(value) || !context.eligible || context.baseline !== release.baseline || release.id in context.applied) return false;
  const meta = healedMeta('instruction-without-step', rollout.id);
  const apply = () => d.command(`apply:${rollout.id}`, { type: 'StartApply', device: id, patch: release.id }, meta);
  if (applyDue) return apply();
  const staged = d.command(`stage:${rollout.id}`, { type: 'StagePatch', device: id, hotpatch: hotpatchOf(release) }, meta);
  // Staged before (its id is recorded) and the device has moved on since: nothing to carry on.
  if (!staged && d.fleet.device(id)!.state.value !== 'staged') return false;
  apply();
  return true;
}

/**
 * A device of a ring a rollout has passed, staged with a hotpatch the ring proved and never applied (a catch-up cut
 * short between its stage and its apply, or a rollout's whose turn ended without it): applied with the catch-up's
 * id. Whether it healed one.
 */
export function healStaged(d: Decision, device: DeviceView, proven: ReadonlyArray<{ readonly release: ReleaseToRoll; readonly rollout: RolloutView }>): boolean {
  const patch = device.state.value === 'staged' ? device.state.context.inFlight?.patch : undefined;
  const from = proven.find(({ release }) => release.kind === 'hotpatch' && release.id === patch);
  if (from === undefined) return false;
  return d.command(`catch-up-apply:${from.release.id}`, { type: 'StartApply', device: device.id, patch: from.release.id }, healedMeta('stage-without-apply', from.rollout.id));
}
