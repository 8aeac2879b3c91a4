import type { EventStore, RecordedEvent } from '@hotpatch/store';

/**
 * The store with a tap: `tap` gets every event of the log once, in log order, as the store records it or a reader
 * (the orchestrator catching its projection up) reads it. How the simulator follows what the service's projection
 * applies without hooks in the projection.
 */
export function tapStore(store: EventStore, tap: (event: RecordedEvent) => void): EventStore {
  let next = 1;
  const note = (events: readonly RecordedEvent[]) => {
    for (const e of events) {
      if (e.position !== next) continue;
      next++;
      tap(e);
    }
  };
  // A callback each rather than an async wrapper: every append of a simulation goes through here.
  const noteAppended = <R extends { readonly events: readonly RecordedEvent[] }>(result: R) => {
    note(result.events);
    return result;
  };
  const noteRead = (events: RecordedEvent[]) => {
    note(events);
    return events;
  };
  return {
    appendToStream: (stream, events, options) => store.appendToStream(stream, events, options).then(noteAppended),
    readAll: (options) => store.readAll(options).then(noteRead),
    readStream: (stream, options) => store.readStream(stream, options),
    readEvent: (stream, id) => store.readEvent(stream, id),
    streamVersion: (stream) => store.streamVersion(stream),
    readState: (stream) => store.readState(stream),
    readCheckpoint: (consumer) => store.readCheckpoint(consumer),
    saveCheckpoint: (consumer, expected, nextPosition) => store.saveCheckpoint(consumer, expected, nextPosition),
    readProjection: (name) => store.readProjection(name),
    saveProjection: (name, position, data) => store.saveProjection(name, position, data),
    subscribe: (consumer, handler, options) => store.subscribe(consumer, handler, options),
    ...(store.batch ? { batch: <T>(fn: () => Promise<T>) => store.batch!(fn) } : {}),
    close: () => store.close(),
  };
}

