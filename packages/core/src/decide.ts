/**
 * The decider: a command and the device's current state give the events to record, or a typed refusal.
 * It never re-implements a rule: it builds the events the command means and lets the lifecycle (compiled from
 * the machine) accept or refuse them.
 */
import { CommandRefusal } from './errors.js';
import { assessEligibility, reasonStrings } from './eligibility.js';
import type { DeviceEventBody } from './device/events.js';
import type { DeviceCommand } from './device/commands.js';
import { deviceStream } from './stream-name.js';
import type { DeviceState } from './device/context.js';
import { deviceLifecycle } from './device/lifecycle.js';

export type { DeviceCommand } from './device/commands.js';

/**
 * Turns a failure report into the events that handle it: a live rollback where the patch allows it, otherwise a
 * pending reboot. A failed patch never waits for a person to notice it.
 */
function remediate(state: DeviceState, patch: string, why: string): DeviceEventBody {
  const inFlight = state.context.inFlight;
  return inFlight?.patch === patch && !inFlight.liveRevert
    ? { type: 'RebootRequired', data: { reason: 'not-live-revertible' } }
    : { type: 'RollbackStarted', data: { patch, reason: why } };
}

/** The events a command means, before the lifecycle has judged them. */
export function eventsFor(state: DeviceState, command: DeviceCommand): DeviceEventBody[] {
  switch (command.type) {
    case 'EnrolDevice':
      return [{ type: 'DeviceEnrolled', data: { ...command.profile, ring: command.ring, baseline: command.baseline } }];
    case 'AssessEligibility': {
      const { profile, baseline } = state.context;
      if (profile === null || baseline === null) return [{ type: 'EligibilityAssessed', data: { eligible: false, reasons: ['not enrolled'] } }];
      const result = assessEligibility({ profile, baseline, latestBaseline: command.latestBaseline });
      return [{ type: 'EligibilityAssessed', data: { eligible: result.eligible, reasons: reasonStrings(result) } }];
    }
    case 'StagePatch': {
      const h = command.hotpatch;
      return [{ type: 'PatchStaged', data: { patch: h.id, baseline: h.baseline, requires: [...h.requires], liveRevert: h.liveRevert } }];
    }
    case 'StartApply':
      return [{ type: 'PatchApplyStarted', data: { patch: command.patch } }];
    case 'ReportApplied':
      return [{ type: 'PatchApplied', data: { patch: command.patch } }];
    case 'ReportApplyFailed':
      return [
        { type: 'PatchApplyFailed', data: { patch: command.patch, reason: command.reason } },
        remediate(state, command.patch, `apply failed: ${command.reason}`),
      ];
    case 'ReportHealth':
      return command.healthy
        ? [{ type: 'PatchVerified', data: { patch: command.patch } }]
        : [
            { type: 'HealthCheckFailed', data: { patch: command.patch, signal: command.signal ?? 'unhealthy' } },
            remediate(state, command.patch, `health check failed: ${command.signal ?? 'unhealthy'}`),
          ];
    case 'RollBack':
      return [{ type: 'RollbackStarted', data: { patch: command.patch, reason: command.reason } }];
    case 'ReportRolledBack':
      return [{ type: 'PatchRolledBack', data: { patch: command.patch } }];
    case 'ReportRollbackFailed':
      return [{ type: 'RollbackFailed', data: { patch: command.patch, reason: command.reason } }];
    case 'RequireReboot':
      return [{ type: 'RebootRequired', data: command.baseline === undefined ? { reason: command.reason } : { reason: command.reason, baseline: command.baseline } }];
    case 'ReportBaselineInstalled':
      return [{ type: 'BaselineInstalled', data: { baseline: command.baseline } }];
    case 'RetireDevice':
      return [{ type: 'DeviceRetired', data: {} }];
  }
}

/**
 * The event lists a command may have recorded on an earlier state of its device, for telling a retry from another
 * command under a used id once the device has moved on: what it means on `state`, and for a failure report also with
 * the other remedy (a live rollback or a reboot hangs on the patch in flight when it was decided).
 */
export function eventsItMayHaveRecorded(state: DeviceState, command: DeviceCommand): DeviceEventBody[][] {
  const meant = eventsFor(state, command);
  if (command.type !== 'ReportApplyFailed' && !(command.type === 'ReportHealth' && !command.healthy)) return [meant];
  const inFlight = state.context.inFlight;
  const liveRevert = !(inFlight?.patch === command.patch && !inFlight.liveRevert);
  const other: DeviceState = { ...state, context: { ...state.context, inFlight: { patch: command.patch, baseline: '', requires: [], liveRevert: !liveRevert } } };
  return [meant, eventsFor(other, command)];
}

export interface Decision {
  readonly events: DeviceEventBody[];
  /** The device's state after the events. */
  readonly state: DeviceState;
}

/**
 * Decides a command against the device's current state: the events to record and the state they lead to, or the
 * lifecycle's refusal as a value (no error built: see CommandRefusal).
 */
export function decideOrRefuse(state: DeviceState, command: DeviceCommand): Decision | CommandRefusal {
  const stream = deviceStream(command.device);
  const events = eventsFor(state, command);
  let next = state;
  for (const event of events) {
    const after = deviceLifecycle.next(next, event);
    if (after === undefined) {
      const before = next;
      return new CommandRefusal(command.type, stream, deviceLifecycle.refusalReason(before, event), () => deviceLifecycle.refusal(before, event, { stream }));
    }
    next = after;
  }
  return { events, state: next };
}

/**
 * Decides a command against the device's current state: the events to record and the state they lead to;
 * CommandRefusedError when the lifecycle refuses them.
 */
export function decide(state: DeviceState, command: DeviceCommand): Decision {
  const decided = decideOrRefuse(state, command);
  if (decided instanceof CommandRefusal) throw decided.error();
  return decided;
}
