export type { AppendOptions, AppendResult, EventStore, ExpectedVersion, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent } from './types.js';
export { DuplicateEventIdError, IdempotencyConflictError, StoreClosedError, WrongExpectedVersionError } from './errors.js';
export { createInMemoryEventStore, type InMemoryEventStore, type InMemoryEventStoreOptions } from './memory-store.js';
export { formatEvent, parseEventLine, readLines, readTimeline, writeTimeline, type Timeline } from './jsonl.js';
export { checkBatch, checkExpectedVersion, checkStreamName, checkTransitions } from './stream-rules.js';
