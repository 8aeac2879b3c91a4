/** The tick decision: ring starts, instructions, timeouts, silences, gates, halts and rollbacks, then the catch-up. */
import { addDays, RESTING_STATES, ringOpensAt, rolloutGuards, rolloutLifecycle, type RolloutEventBody, type RolloutState } from '@hotpatch/core';
import { applyTimedOut, applyTimeoutReason } from '../rules/apply-timeout.js';
import { agentSilent, silenceReason } from '../rules/silence.js';
import { emptySummary, type TickSummary } from './api.js';
import { catchUp } from './decide-catch-up.js';
import { healInstructed, healUninstructed } from './decide-heal.js';
import { Decision, type Decided, type DecisionInput } from './decision.js';
import type { DeviceView, RolloutView } from './fleet-draft.js';
import { cumulativeUpdateOf, hotpatchOf, type ReleaseToRoll } from './release.js';
import { reconcile, restartOntoUpdate, rollBackIfHalted } from './remedies.js';

/**
 * Where a tick stands after its earlier units of work. A unit instructs at most `unitInstructions` devices (what a
 * unit holds until it commits grows with its steps); the tick then goes on in another unit, on the log as the earlier
 * ones left it, from where they stopped: the rollouts before that one are done, and so is that one's work before its
 * instructions (ring start, outcomes, timeouts, healing).
 */
export interface TickPace {
  readonly unitInstructions: number;
  /** Devices instructed by the tick's earlier units, by rollout (the policy's `maxInstructionsPerTick` is per tick). */
  readonly instructed: ReadonlyMap<string, number>;
  /** Where the last unit stopped: the rollout, and the device it would have instructed next. */
  readonly resume?: { readonly rollout: string; readonly device: string };
}

/** What one unit of a tick did; `rest`: the tick is not done, and goes on in another unit from there. */
export interface TickPart extends TickSummary {
  readonly rest?: TickPace;
}

/** A tick in one unit, however many devices it instructs. */
export const WHOLE_TICK: TickPace = { unitInstructions: Number.POSITIVE_INFINITY, instructed: new Map() };

interface Pace {
  readonly unitInstructions: number;
  readonly instructed: Map<string, number>;
  resume?: { readonly rollout: string; readonly device: string };
}

export function decideTick(input: DecisionInput, pace: TickPace = WHOLE_TICK): Decided<TickPart> {
  const d = new Decision(input);
  const summary = emptySummary();
  const next: Pace = { unitInstructions: pace.unitInstructions, instructed: new Map(pace.instructed) };
  let resume = pace.resume;
  for (const rollout of d.fleet.rollouts()) {
    if (resume !== undefined && rollout.id !== resume.rollout) continue;
    const done = tickRollout(d, rollout, summary, next, resume?.device);
    resume = undefined;
    if (done === 'unit full') return d.done({ ...summary, rest: next });
  }
  catchUp(d, summary);
  return d.done(summary);
}

/** `resumeAt`: the tick goes on from this device's instruction (an earlier unit did the rollout's work before it). */
function tickRollout(d: Decision, rollout: RolloutView, summary: TickSummary, pace: Pace, resumeAt?: string): 'unit full' | undefined {
  const { now: t, policy, fleet } = d;
  let s: RolloutState = rollout.state;
  const release = d.releases.of(rollout);
  const resuming = resumeAt !== undefined;
  if (s.value === 'betweenRings' && !resuming) {
    const next = s.context.policies[s.context.current + 1]!;
    const opens = ringOpensAt(s.context, s.context.current + 1);
    // A paused ring does not start (its deferral may pass meanwhile: it starts once resumed).
    if (opens !== null && t >= opens && !fleet.base.isRingPaused(next.name)) {
      if (d.record(rollout.id, `ring:${next.name}`, { type: 'RingStarted', data: { ring: next.name, at: t, devices: fleet.base.liveRingMembers(next.name).length } })) summary.ringsStarted++;
      s = rollout.state;
    }
  }
  if (s.value === 'rolling') {
    const ring = s.context.policies[s.context.current]!;
    const progress = s.context.rings[s.context.current]!;
    if (!resuming) summary.outcomes += reconcile(d, rollout);
    // Timeouts and silent agents among the devices in flight (first, the steps an instruction cut short never got).
    const healing = release !== undefined && !fleet.base.isRingPaused(ring.name);
    for (const id of resuming ? [] : [...rollout.pending]) {
      const instruction = rollout.instructed.get(id)!;
      if (instruction.ring !== ring.name || rollout.outcomes.has(id)) continue;
      const device = fleet.device(id);
      if (!device) continue;
      if (healing && healInstructed(d, rollout, id, release)) {
        summary.healed++;
        continue;
      }
      if (applyTimedOut(device, t, policy)) {
        const patch = device.state.context.inFlight!.patch;
        if (d.command(`timeout:${rollout.id}`, { type: 'ReportApplyFailed', device: id, patch, reason: applyTimeoutReason(policy.applyTimeoutMinutes) })) summary.timedOut++;
        if (d.record(rollout.id, `outcome:${id}`, { type: 'DeviceFailed', data: { ring: ring.name, device: id, reason: 'timeout' } })) summary.outcomes++;
        restartOntoUpdate(d, rollout, id);
      } else if (agentSilent(device, t, policy)) {
        if (d.record(rollout.id, `outcome:${id}`, { type: 'DeviceSetAside', data: { ring: ring.name, device: id, reason: silenceReason(policy), instructed: true } })) summary.setAside++;
      }
    }
    s = rollout.state;
    // New instructions, while the ring has room, the rollout is still rolling and the ring is not paused (what is in
    // flight goes on: its reports, timeouts and silences are handled above).
    if (s.value === 'rolling' && release && !fleet.base.isRingPaused(ring.name)) {
      const waiting = candidates(d, rollout, ring.name);
      // First the instructions a unit of work began and did not finish (see decide-heal.ts): outside the tick's budget,
      // as they were counted in the unit that began them.
      if (!resuming) for (const device of devices(d, waiting)) if (rollout.state.value === 'rolling' && healUninstructed(d, rollout, ring.name, device, release)) summary.healed++;
      let budget = (policy.maxInstructionsPerTick ?? Number.POSITIVE_INFINITY) - (pace.instructed.get(rollout.id) ?? 0);
      // Resuming, the devices before the one the last unit stopped at were looked at by it (should that one have left
      // the list since, the list is looked at again from its start: the devices already instructed are not in it).
      const from = resuming ? Math.max(0, waiting.indexOf(resumeAt)) : 0;
      for (const device of devices(d, from === 0 ? waiting : waiting.slice(from))) {
        if (budget <= 0 || rollout.state.value !== 'rolling') break;
        // The ring's turn covers as many devices as it had when it started (the machine keeps that count): once each
        // is accounted for, a device that joined the ring since waits for the catch-up, after the gate. The machine's
        // own guard (no transition computed), asked before any step is given, so that no device gets a step its
        // instruction would then be refused for.
        if (!rolloutGuards.instructsCurrentRing({ context: rollout.state.context, event: { type: 'DeviceInstructed', data: { ring: ring.name, device: device.id, action: 'hotpatch' } } })) break;
        if (rollout.instructed.has(device.id) || rollout.outcomes.has(device.id)) continue;
        if (summary.instructed >= pace.unitInstructions) {
          pace.resume = { rollout: rollout.id, device: device.id };
          return 'unit full';
        }
        if (instruct(d, rollout, ring.name, device, release)) {
          summary.instructed++;
          pace.instructed.set(rollout.id, (pace.instructed.get(rollout.id) ?? 0) + 1);
          budget--;
        } else if (agentSilent(fleet.device(device.id)!, t, policy)) {
          // Busy (a patch or a reboot pending) and not heard of for too long: its agent is silent. It is set aside
          // before it was ever instructed, so that the ring can finish without it.
          if (d.record(rollout.id, `outcome:${device.id}`, { type: 'DeviceSetAside', data: { ring: ring.name, device: device.id, reason: silenceReason(policy), instructed: false } })) summary.setAside++;
        }
      }
    }
    s = rollout.state;
    if (s.value === 'rolling') {
      const gate: RolloutEventBody = { type: 'GatePassed', data: { ring: ring.name, at: t } };
      if (rolloutLifecycle.step(s, gate)) {
        if (d.record(rollout.id, `gate:${ring.name}`, gate)) summary.gatesPassed++;
      } else if (progress.startedAt !== null && Date.parse(t) - fleet.base.pausedMs(rollout, ring.name, progress.startedAt, t) >= Date.parse(addDays(progress.startedAt, ring.deadlineDays))) {
        // The deadline does not run while the rollout or the ring is paused: a pause is someone's decision, not the
        // ring failing.
        if (d.record(rollout.id, `deadline:${ring.name}`, { type: 'RolloutHalted', data: { reason: `${ring.name}: gate not passed by its deadline`, at: t } })) summary.halted++;
      }
    }
  }
  if (rollout.state.value === 'halted') summary.rollbacks += rollBackIfHalted(d, rollout);
  return undefined;
}

/**
 * The ring's devices the rollout has not instructed nor settled yet, in enrolment order. Remembered between ticks
 * and narrowed as devices are instructed, so a tick looks at the devices still waiting, not at the whole ring; listed
 * again when the ring changes or gains members.
 */
function candidates(d: Decision, rollout: RolloutView, ring: string): string[] {
  const members = d.fleet.base.ringMembers.get(ring);
  const size = members?.size ?? 0;
  const entry = d.memory.waiting.get(rollout.id);
  const listed = entry === undefined || entry.ring !== ring || entry.members !== size ? [...(members ?? [])] : entry.ids;
  const ids = listed.filter((id) => !rollout.instructed.has(id) && !rollout.outcomes.has(id));
  d.memory.waiting.set(rollout.id, { ring, members: size, ids });
  return ids;
}

/** The devices of these ids that are not retired, each looked up as the loop comes to it. */
function* devices(d: Decision, ids: readonly string[]): Generator<DeviceView> {
  for (const id of ids) {
    const device = d.fleet.device(id);
    if (device !== undefined && device.state.value !== 'retired') yield device;
  }
}

/** Instructs one device: the hotpatch where it can take it, otherwise the traditional update with a restart. */
function instruct(d: Decision, rollout: RolloutView, ring: string, device: DeviceView, release: ReleaseToRoll): boolean {
  const { value, context } = device.state;
  const resting = RESTING_STATES.includes(value);
  let action: 'hotpatch' | 'reboot';
  if (release.kind === 'baseline') {
    if (!resting && value !== 'ineligible' && value !== 'enrolled') return false;
    d.command(`reboot:${rollout.id}`, { type: 'RequireReboot', device: device.id, reason: release.rebootReason ?? 'baseline', baseline: release.baseline });
    action = 'reboot';
  } else if (resting && context.eligible && context.baseline === release.baseline) {
    if (release.id in context.applied) return false;
    const staged = d.command(`stage:${rollout.id}`, { type: 'StagePatch', device: device.id, hotpatch: hotpatchOf(release) });
    if (!staged && d.fleet.device(device.id)!.state.value !== 'staged') return false;
    d.command(`apply:${rollout.id}`, { type: 'StartApply', device: device.id, patch: release.id });
    action = 'hotpatch';
  } else if (value === 'ineligible' || (resting && (!context.eligible || context.baseline !== release.baseline))) {
    // Not eligible, or not on the hotpatch's baseline: the release's cumulative update, with a restart, instead (none
    // when the device already runs one as new: caught up, say).
    const installedAt = d.releases.installedReleasedAt(context);
    if (installedAt !== null && installedAt >= release.releasedAt) return false;
    d.command(`reboot:${rollout.id}`, { type: 'RequireReboot', device: device.id, reason: 'eligibility', baseline: cumulativeUpdateOf(release) });
    action = 'reboot';
  } else {
    return false; // busy (a patch or a reboot pending): next tick
  }
  return d.record(rollout.id, `instructed:${device.id}`, { type: 'DeviceInstructed', data: { ring, device: device.id, action } });
}
