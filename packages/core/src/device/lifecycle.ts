import type { DeviceEventBody } from './events.js';
import { compileEvolve, type CompiledLifecycle } from '../evolve.js';
import type { DeviceContext, DeviceState, DeviceStateValue } from './context.js';
import { deviceMachine } from './machine.js';

/** The device lifecycle compiled from `deviceMachine`: the fast, pure fold used by replay, stores and commands. */
export const deviceLifecycle: CompiledLifecycle<DeviceStateValue, DeviceContext, DeviceEventBody> = compileEvolve(deviceMachine);

/** Folds one device event into a device's state. Throws TransitionRefusedError when the machine refuses it. */
export const evolveDevice = deviceLifecycle.evolve as (state: DeviceState, event: DeviceEventBody, at?: import('../errors.js').EventLocation) => DeviceState;
