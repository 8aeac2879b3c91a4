/**
 * decideOrRefuse, where refusals are values, against the decider as it was (each event through evolveDevice, its
 * TransitionRefusedError wrapped in a CommandRefusedError): the same events and state, or the same refusal, whose
 * error says what the thrown one said.
 */
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { decide, decideOrRefuse, eventsFor, type DeviceCommand } from './decide.js';
import type { DeviceState } from './device/context.js';
import { deviceLifecycle, evolveDevice } from './device/lifecycle.js';
import { CommandRefusal, CommandRefusedError, TransitionRefusedError } from './errors.js';
import { deviceStream } from './stream-name.js';
import { BASELINES, eligibleProfile, guidedSequence, PATCHES } from './testing/index.js';

/** The decider before refusals were values: the anchor. */
function decideByThrowing(state: DeviceState, command: DeviceCommand) {
  const stream = deviceStream(command.device);
  const events = eventsFor(state, command);
  let next = state;
  for (const event of events) {
    try {
      next = evolveDevice(next, event, { stream });
    } catch (error) {
      if (error instanceof TransitionRefusedError) throw new CommandRefusedError(command.type, stream, error.what, error);
      throw error;
    }
  }
  return { events, state: next };
}

const patch = fc.constantFrom(...PATCHES);
const baseline = fc.constantFrom(...BASELINES);
const device = 'd1';
const command: fc.Arbitrary<DeviceCommand> = fc.oneof(
  fc.constant<DeviceCommand>({ type: 'EnrolDevice', device, profile: eligibleProfile, ring: 'pilot', baseline: 'B1' }),
  baseline.map((b): DeviceCommand => ({ type: 'AssessEligibility', device, latestBaseline: b })),
  fc.tuple(patch, baseline, fc.boolean()).map(([p, b, liveRevert]): DeviceCommand => ({ type: 'StagePatch', device, hotpatch: { id: p, baseline: b, requires: [], liveRevert } })),
  patch.map((p): DeviceCommand => ({ type: 'StartApply', device, patch: p })),
  patch.map((p): DeviceCommand => ({ type: 'ReportApplied', device, patch: p })),
  patch.map((p): DeviceCommand => ({ type: 'ReportApplyFailed', device, patch: p, reason: 'boom' })),
  fc.tuple(patch, fc.boolean()).map(([p, healthy]): DeviceCommand => ({ type: 'ReportHealth', device, patch: p, healthy, ...(healthy ? {} : { signal: 'crash' }) })),
  patch.map((p): DeviceCommand => ({ type: 'RollBack', device, patch: p, reason: 'halt' })),
  patch.map((p): DeviceCommand => ({ type: 'ReportRolledBack', device, patch: p })),
  patch.map((p): DeviceCommand => ({ type: 'ReportRollbackFailed', device, patch: p, reason: 'stuck' })),
  baseline.map((b): DeviceCommand => ({ type: 'RequireReboot', device, reason: 'baseline', baseline: b })),
  baseline.map((b): DeviceCommand => ({ type: 'ReportBaselineInstalled', device, baseline: b })),
  fc.constant<DeviceCommand>({ type: 'RetireDevice', device }),
);

const stateAfter = (events: readonly Parameters<typeof evolveDevice>[1][]) =>
  events.reduce((s, e) => (deviceLifecycle.next(s, e) as DeviceState | undefined) ?? s, deviceLifecycle.initial as DeviceState);

test.prop([guidedSequence, command], { numRuns: 2000, seed: 20261207 })('decides as the throwing decider did, and refuses with the same words', (history, c) => {
  const state = stateAfter(history);
  let expected: ReturnType<typeof decideByThrowing> | CommandRefusedError;
  try {
    expected = decideByThrowing(state, c);
  } catch (error) {
    expected = error as CommandRefusedError;
  }
  const decided = decideOrRefuse(state, c);
  if (expected instanceof CommandRefusedError) {
    expect(decided).toBeInstanceOf(CommandRefusal);
    const refusal = decided as CommandRefusal;
    expect(refusal.reason).toBe(expected.reason);
    const error = refusal.error();
    expect([error.message, error.command, error.stream, error.refusal?.message, error.refusal?.rule]).toEqual([expected.message, expected.command, expected.stream, expected.refusal?.message, expected.refusal?.rule]);
    expect(() => decide(state, c)).toThrow(expected.message);
  } else {
    expect(decided).toEqual(expected);
    expect(decide(state, c)).toEqual(expected);
  }
});
