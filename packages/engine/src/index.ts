export { ConcurrencyExhaustedError, createEngine, type CommandResult, type Engine, type EngineOptions, type ExecuteOptions, type LoadedDevice } from './engine.js';
export { COMMAND_EVENT_NAMESPACE, eventIdFor, nameBasedIds, timedNameBasedIds, timeOfId } from './ids.js';
