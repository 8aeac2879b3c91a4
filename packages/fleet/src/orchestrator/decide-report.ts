/** The report decision: an agent's report as device commands, then its outcome, halt, rollbacks and remedies in its rollouts. */
import type { DeviceCommand } from '@hotpatch/core';
import { timeOfId } from '@hotpatch/engine';
import type { AgentReport, ReportResult } from './api.js';
import { Decision, type Decided, type DecisionInput, type WithId } from './decision.js';
import type { DeviceView, RolloutView } from './fleet-draft.js';
import { idAt } from './ids.js';
import { cumulativeUpdateOf } from './release.js';
import { reconcile, restartOntoUpdate, rollBackIfHalted, uninstall } from './remedies.js';

/** The report's result; undefined while a refused command's fate is not known (the log tells: the shell looks). */
export function decideReport(input: DecisionInput, report: AgentReport): Decided<ReportResult | undefined> {
  const d = new Decision(input);
  return d.done(reportSteps(d, report));
}

/**
 * The commands an agent's report stands for, on the device as the view has it, each with its id: the report's own for
 * its last command (an agent retrying sends the same), one derived from it for the command before (made here, with
 * its id, rather than copied once more to add it).
 */
function commandsOf(r: AgentReport, device: DeviceView): WithId<DeviceCommand>[] {
  const id = r.id;
  switch (r.kind) {
    case 'applied':
      return [{ type: 'ReportApplied', device: r.device, patch: r.patch, id }];
    case 'apply-failed':
      return [{ type: 'ReportApplyFailed', device: r.device, patch: r.patch, reason: r.reason, id }];
    case 'health': {
      const health: WithId<DeviceCommand> =
        r.signal !== undefined ? { type: 'ReportHealth', device: r.device, patch: r.patch, healthy: r.healthy, signal: r.signal, id } : { type: 'ReportHealth', device: r.device, patch: r.patch, healthy: r.healthy, id };
      // A health report can overtake the apply report: the patch is running, so it was applied.
      const overtaken = device.state.value === 'applying' && device.state.context.inFlight?.patch === r.patch;
      return overtaken ? [{ type: 'ReportApplied', device: r.device, patch: r.patch, id: idAt(timeOfId(r.id), r.id, 'applied') }, health] : [health];
    }
    case 'rolled-back':
      return [{ type: 'ReportRolledBack', device: r.device, patch: r.patch, id }];
    case 'rollback-failed':
      return [{ type: 'ReportRollbackFailed', device: r.device, patch: r.patch, reason: r.reason, id }];
    case 'baseline-installed':
      return [{ type: 'ReportBaselineInstalled', device: r.device, baseline: r.baseline, id }];
  }
}

function reportSteps(d: Decision, r: AgentReport): ReportResult | undefined {
  const device = d.fleet.device(r.device);
  if (!device) return { status: 'ignored', reason: `unknown device ${r.device}` };
  const commands = commandsOf(r, device);
  let written = 0;
  let duplicate = false;
  for (const command of commands) {
    const outcome = d.report(command, r.meta);
    if (outcome.status === 'unknown') return undefined;
    if (outcome.status === 'refused') return { status: 'ignored', reason: outcome.reason };
    if (outcome.status === 'duplicate') duplicate = true;
    else written += outcome.events;
  }
  // A cumulative update the device is not well on: it fails the rollouts that installed it (a baseline's, or a
  // hotpatch's that gave it the cumulative update instead; before they count the install as a success), and it is
  // uninstalled.
  if (r.kind === 'baseline-installed' && r.healthy === false) {
    for (const rollout of rolloutsOf(d, r.device)) {
      const instruction = rollout.instructed.get(r.device)!;
      const planned = d.releases.of(rollout);
      const installed = planned !== undefined ? cumulativeUpdateOf(planned) : rollout.state.context.releaseKind === 'baseline' ? rollout.state.context.release : undefined;
      if (installed !== r.baseline || instruction.action !== 'reboot' || rollout.outcomes.has(r.device)) continue;
      d.record(rollout.id, `outcome:${r.device}`, { type: 'DeviceFailed', data: { ring: instruction.ring, device: r.device, reason: 'health-failed' } });
    }
    uninstall(d, d.fleet.device(r.device)!, r.baseline);
  }
  // The device's outcome in its rollouts, at once: a failure past the budget halts before the next tick. Only where
  // the report may change something: the rollouts where the device is in flight, halted ones (their rollbacks), and
  // after a failed apply every one (see restartOntoUpdate); not the many that settled the device long ago.
  const concerned = (rollout: RolloutView) => r.kind === 'apply-failed' || rollout.pending.has(r.device) || rollout.state.value === 'halted';
  for (const rollout of rolloutsOf(d, r.device, concerned)) {
    reconcile(d, rollout, r.device);
    if (r.kind === 'apply-failed') restartOntoUpdate(d, rollout, r.device);
    // A halt this report caused rolls back the whole ring; after that, each report brings its own device back.
    rollBackIfHalted(d, rollout, d.memory.watching(rollout.id) ? r.device : undefined);
  }
  return duplicate && written === 0 ? { status: 'duplicate' } : { status: 'recorded', events: written };
}

/**
 * The rollouts that instructed a device (a report instructs none, so the projection's say which), as drafts; `only`:
 * those of them it holds true of, as the decision has them so far.
 */
function rolloutsOf(d: Decision, device: string, only?: (rollout: RolloutView) => boolean): RolloutView[] {
  const out: RolloutView[] = [];
  for (const id of d.fleet.base.rolloutsInstructing(device)) if (only === undefined || only(d.fleet.rolloutAsIs(id)!)) out.push(d.fleet.rollout(id)!);
  return out;
}
