/** An embedder needs only @hotpatch/engine: the commands, the states and the errors an execute may throw come with it. */
import { expect, it } from 'vitest';
import * as core from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import * as store from '@hotpatch/store';
import * as engine from './index.js';
import type { DeviceCommand, DeviceState } from './index.js';

it('re-exports the refusal, the command and state types and the typed errors, as the very classes core and store throw', async () => {
  for (const name of ['CommandRefusedError', 'TransitionRefusedError', 'HotpatchError', 'EnvironmentError', 'InvalidCommandError', 'InvalidEventError', 'InvalidIdError', 'InvalidClockError', 'DeviceCommandSchema'] as const) {
    expect(engine[name], name).toBeDefined();
    expect(engine[name], name).toBe(core[name]);
  }
  for (const name of ['WrongExpectedVersionError', 'EventIdTakenError', 'EventIdReusedError', 'IdempotencyConflictError', 'StoreClosedError', 'DatabaseBusyError', 'DatabaseUnavailableError'] as const) {
    expect(engine[name], name).toBe(store[name]);
  }
  const e = engine.createEngine({ store: store.createInMemoryEventStore() });
  const enrol: DeviceCommand = { type: 'EnrolDevice', device: 'd1', profile: eligibleProfile, ring: 'pilot', baseline: 'B1' };
  const state: DeviceState = (await e.execute(enrol)).state;
  const refused = await e.execute({ type: 'ReportApplied', device: 'd1', patch: 'P1' }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(engine.CommandRefusedError);
  expect(refused).toBeInstanceOf(engine.HotpatchError);
  expect(state.value).toBe('enrolled');
});
