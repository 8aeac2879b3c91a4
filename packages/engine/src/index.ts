export { ConcurrencyExhaustedError, createEngine, intentFor, intentOrRefusal, type CommandResult, type Engine, type EngineOptions, type ExecuteOptions, type Intent, type LoadedDevice } from './engine.js';
export { checkCommand, commandTypeOf, decideCommand, decideCommandOrRefuse, isDeviceCommand, streamOf, type Command, type CommandDecision, type Known, type RingCommand, type RolloutCommand, type StateOf } from './commands.js';
export { checkRetry, CommandIdReusedError, type CommandDifference } from './retry.js';
export { COMMAND_EVENT_NAMESPACE, eventIdFor } from './ids.js';
// A command's id, derived from what it means, makes its retry recognisable: the store's name-based ids.
export { nameBasedIds, timedNameBasedIds, timeOfId } from '@hotpatch/store';
export { InvalidEngineOptionsError } from './options.js';
// What an embedder needs besides the engine, so that @hotpatch/engine is enough: the commands and the states it
// works with, and the errors an execute may throw (a refusal, a bad command or id, a bad clock; the store's).
export { CommandRefusal, CommandRefusedError, DeviceCommandSchema, EnvironmentError, HotpatchError, InvalidClockError, InvalidCommandError, InvalidEventError, InvalidIdError, TransitionRefusedError } from '@hotpatch/core';
export type { DeviceCommand, DeviceState, RingEventBody, RingState, RolloutEventBody, RolloutState } from '@hotpatch/core';
export { DatabaseBusyError, DatabaseUnavailableError, EventIdReusedError, EventIdTakenError, IdempotencyConflictError, StoreClosedError, WrongExpectedVersionError } from '@hotpatch/store';
export type { EventStore, RecordedEvent } from '@hotpatch/store';
