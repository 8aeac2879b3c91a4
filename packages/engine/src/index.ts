export { ConcurrencyExhaustedError, createEngine, intentFor, type CommandResult, type Engine, type EngineOptions, type ExecuteOptions, type Intent, type LoadedDevice } from './engine.js';
export { checkCommand, commandTypeOf, decideCommand, isDeviceCommand, streamOf, type Command, type CommandDecision, type Known, type RingCommand, type RolloutCommand, type StateOf } from './commands.js';
export { checkRetry, CommandIdReusedError, type CommandDifference } from './retry.js';
export { COMMAND_EVENT_NAMESPACE, eventIdFor } from './ids.js';
// A command's id, derived from what it means, makes its retry recognisable: the store's name-based ids.
export { nameBasedIds, timedNameBasedIds, timeOfId } from '@hotpatch/store';
export { DeviceCommandSchema, InvalidCommandError, type DeviceCommand } from '@hotpatch/core';
