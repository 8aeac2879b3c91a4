export { ConcurrencyExhaustedError, createEngine, type CommandResult, type Engine, type EngineOptions, type ExecuteOptions, type LoadedDevice } from './engine.js';
export { COMMAND_EVENT_NAMESPACE, eventIdFor } from './ids.js';
// A command's id, derived from what it means, makes its retry recognisable: the store's name-based ids.
export { nameBasedIds, timedNameBasedIds, timeOfId } from '@hotpatch/store';
