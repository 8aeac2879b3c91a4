/** The catch-up decision: devices that missed their ring's turn get what it proved, one step a tick (see the fleet README). */
import { RESTING_STATES, type DeviceStateValue } from '@hotpatch/core';
import { applyTimedOut, applyTimeoutReason } from '../rules/apply-timeout.js';
import { emptySummary, type TickSummary } from './api.js';
import { healStaged } from './decide-heal.js';
import { Decision, type Decided, type DecisionInput } from './decision.js';
import type { RolloutView } from './fleet-draft.js';
import { cumulativeUpdateOf, hotpatchOf, type ReleaseToRoll } from './release.js';
import { didNotTake, giveUpdateInstead, remedyFailedHotpatches } from './remedies.js';

const resting = (value: DeviceStateValue) => RESTING_STATES.includes(value);
const byRelease = (a: ReleaseToRoll, b: ReleaseToRoll) => (a.releasedAt < b.releasedAt ? -1 : a.releasedAt > b.releasedAt ? 1 : 0);

/** The catch-up on its own (a tick does it after its rollouts): how many steps it gave, and how many applies it timed out. */
export function decideCatchUp(input: DecisionInput): Decided<Pick<TickSummary, 'caughtUp' | 'timedOut' | 'healed'>> {
  const d = new Decision(input);
  const summary = emptySummary();
  catchUp(d, summary);
  return d.done({ caughtUp: summary.caughtUp, timedOut: summary.timedOut, healed: summary.healed });
}

interface Turn {
  readonly ring: string;
  readonly release: ReleaseToRoll;
  readonly rollout: RolloutView;
  readonly paused: boolean;
}

/** The turns over: each ring whose gate a rollout (not halted) passed; a paused rollout's are held back. */
function turnsOver(d: Decision): Turn[] {
  const turns: Turn[] = [];
  for (const rollout of d.fleet.rollouts()) {
    const { value, context } = rollout.state;
    const release = d.releases.of(rollout);
    if (release === undefined || (value !== 'completed' && value !== 'rolling' && value !== 'betweenRings' && value !== 'paused')) continue;
    context.policies.forEach((ring, i) => {
      if (value === 'completed' || context.rings[i]?.gatePassed) turns.push({ ring: ring.name, release, rollout, paused: value === 'paused' });
    });
  }
  return turns;
}

/** Which devices to look at: every device once, each as it enrols, and the members a turn just over never reached. */
function lookAt(d: Decision, turns: readonly Turn[]): void {
  const { memory, fleet } = d;
  if (!memory.examinedAll) {
    memory.examinedAll = true;
    for (const id of fleet.base.devices.keys()) memory.behind.add(id);
  }
  for (const id of fleet.base.enrolled) memory.behind.add(id);
  // A turn just over: the members it never asked (set aside, silent while busy) are behind like a device that joined
  // after it, and looked at the same way (an instance that starts looks at them too); and, where the policy remedies
  // them, those whose hotpatch did not take.
  for (const { ring, rollout } of turns) {
    const turn = `${rollout.id}\u0000${ring}`;
    if (memory.turnsOver.has(turn)) continue;
    memory.turnsOver.add(turn);
    const patch = rollout.state.context.release;
    for (const id of fleet.base.ringMembers.get(ring) ?? []) {
      if (!rollout.instructed.has(id) || (remedyFailedHotpatches(d.policy) && rollout.outcomes.get(id) === 'failed' && didNotTake(d, id, patch))) memory.behind.add(id);
    }
  }
}

export function catchUp(d: Decision, summary: TickSummary): void {
  const { memory, fleet, policy, now: t } = d;
  const turns = turnsOver(d);
  lookAt(d, turns);
  if (memory.behind.size === 0) return;
  // What each ring has passed, oldest release first; the rings a paused rollout holds back.
  const passed = new Map<string, Array<{ release: ReleaseToRoll; rollout: RolloutView }>>();
  const heldBack = new Set<string>();
  for (const { ring, release, rollout, paused } of turns) {
    if (paused) {
      heldBack.add(ring);
      continue;
    }
    let list = passed.get(ring);
    if (list === undefined) passed.set(ring, (list = []));
    list.push({ release, rollout });
  }
  for (const list of passed.values()) list.sort((a, b) => byRelease(a.release, b.release));
  const remedy = remedyFailedHotpatches(policy);
  for (const id of [...memory.behind]) {
    const device = fleet.device(id);
    if (device === undefined || device.state.value === 'retired') {
      memory.behind.delete(id);
      continue;
    }
    const { value, context } = device.state;
    // Nothing in flight and no restart pending: a restart may be asked of it.
    const restartable = resting(value) || value === 'ineligible' || value === 'enrolled';
    if (value === 'applying' && applyTimedOut(device, t, policy)) {
      // A rollout times out its own devices (on its ring's turn); a catch-up apply is timed out here.
      if (!fleet.rollouts().some((r) => r.pending.has(id))) {
        const patch = context.inFlight!.patch;
        if (d.command(`catch-up-timeout:${patch}`, { type: 'ReportApplyFailed', device: id, patch, reason: applyTimeoutReason(policy.applyTimeoutMinutes) })) summary.timedOut++;
      }
      continue;
    }
    // A paused ring receives nothing new: the device stays in view, and is caught up once its ring resumes.
    if (fleet.base.isRingPaused(device.ring)) continue;
    // What the rollouts proved in its ring and never asked of this device: what they asked is theirs to see through
    // (a failure, an uninstall, a device set aside in flight); a device they set aside before asking it (its agent
    // silent while it was busy) is caught up once it is back.
    const provenBy = (passed.get(device.ring) ?? []).filter(({ rollout }) => !rollout.instructed.has(id) && rollout.outcomes.get(id) !== 'failed');
    const proven = provenBy.map(({ release }) => release);
    // Staged, its apply never come (a unit cut short between the two: see decide-heal.ts): applied, when its ring
    // proved the patch; nothing else is asked of a staged device.
    if (value === 'staged') {
      if (healStaged(d, device, provenBy)) summary.healed++;
      continue;
    }
    const baseline = proven.filter((r) => r.kind === 'baseline').at(-1);
    // Behind on its baseline (what it runs, a baseline or a cumulative update, shipped before the newest proven
    // baseline, or is not known).
    const installedAt = d.releases.installedReleasedAt(context);
    if (baseline !== undefined && context.baseline !== baseline.baseline && (installedAt === null || installedAt < baseline.releasedAt)) {
      if (restartable) {
        // Once per device and baseline (the command's id says which): a device that came back unwell on it and was
        // taken off it again is not restarted onto it a second time.
        if (d.command(`catch-up:${baseline.id}`, { type: 'RequireReboot', device: id, reason: baseline.rebootReason ?? 'baseline', baseline: baseline.baseline })) summary.caughtUp++;
        // Asked before: by another instance (the device is restarting onto it: carry on from there), or long ago, and
        // the device is not on it (it was taken off it): leave it.
        else if (fleet.device(id)!.state.value !== 'needsReboot') memory.behind.delete(id);
      }
      continue; // busy, or restarting onto it: looked at again next tick
    }
    // A hotpatch its ring proved that did not take here (the apply failed, or stalled and was timed out; the engine
    // rolled it back, or restarted the device): that release's cumulative update, with a restart, as Windows Update
    // falls back to the LCU when a hotpatch fails to install; once per device and release, and only while nothing
    // newer covers the device. A hotpatch that made the device unwell is not followed by the same fix in another
    // form: a person looks at that device.
    const failedToApply = !remedy ? undefined : (passed.get(device.ring) ?? []).filter(({ release }) => release.kind === 'hotpatch' && didNotTake(d, id, release.id)).at(-1)?.release;
    if (failedToApply !== undefined && (device.protectedUpTo === null || device.protectedUpTo < failedToApply.releasedAt) && !(failedToApply.id in context.applied)) {
      if (!restartable) continue; // still rolling back or restarting: next tick
      if (giveUpdateInstead(d, id, failedToApply)) {
        summary.caughtUp++;
        continue;
      }
      if (fleet.device(id)!.state.value === 'needsReboot') continue;
    }
    if (value === 'ineligible' || value === 'enrolled' || !context.eligible || (baseline !== undefined && context.baseline !== baseline.baseline)) {
      // Ineligible (or never assessed) on the newest proven baseline: assessed again against it, once (a device behind
      // on its baseline is not eligible for hotpatches; on it, it may well be).
      const latest = baseline?.baseline ?? null;
      if (latest !== null && context.baseline === latest && context.profile !== null && (value === 'ineligible' || value === 'enrolled')) {
        if (d.command(`catch-up-assess:${latest}`, { type: 'AssessEligibility', device: id, latestBaseline: latest })) {
          summary.caughtUp++;
          continue;
        }
        // Assessed before, by another instance: eligible now, so carry on from there.
        if (fleet.device(id)!.state.context.eligible) continue;
      }
      // Still unable to take hotpatches (or on a cumulative update, off the hotpatches' baseline): the newest proven
      // hotpatch's cumulative update, with a restart, when it is newer than what the device runs; once.
      const update = proven.filter((r) => r.kind === 'hotpatch').at(-1);
      if (update !== undefined && context.profile !== null && (installedAt === null || installedAt < update.releasedAt) && restartable) {
        if (d.command(`catch-up:${update.id}`, { type: 'RequireReboot', device: id, reason: 'eligibility', baseline: cumulativeUpdateOf(update) })) {
          summary.caughtUp++;
          continue;
        }
        if (fleet.device(id)!.state.value === 'needsReboot') continue;
      }
      if (!heldBack.has(device.ring) && restartable) memory.behind.delete(id);
      continue;
    }
    const next = proven.find((r) => r.kind === 'hotpatch' && r.baseline === context.baseline && !(r.id in context.applied) && (r.requires ?? []).every((q) => q in context.applied));
    if (next === undefined) {
      // Nothing left to catch up with, once nothing is in flight or pending (and no paused rollout may add to it).
      if (resting(value) && !heldBack.has(device.ring)) memory.behind.delete(id);
      continue;
    }
    if (!resting(value)) continue;
    const staged = d.command(`catch-up-stage:${next.id}`, { type: 'StagePatch', device: id, hotpatch: hotpatchOf(next) });
    const after = fleet.device(id)!.state;
    if (!staged && after.value !== 'staged') {
      // Tried before (once per device and patch): by another instance (in flight or applied since: carry on from
      // there), or long ago, and it failed: leave it.
      if (resting(after.value) || after.value === 'ineligible') memory.behind.delete(id);
      continue;
    }
    if (d.command(`catch-up-apply:${next.id}`, { type: 'StartApply', device: id, patch: next.id })) summary.caughtUp++;
  }
}
