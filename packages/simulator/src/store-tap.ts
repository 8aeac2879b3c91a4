import type { EventStore, RecordedEvent } from '@hotpatch/store';

/**
 * The store with a tap: `tap` gets every event of the log once, in log order, as the store records it or a reader
 * (the orchestrator catching its projection up) reads it. How the simulator follows what the service's projection
 * applies without hooks in the projection. Positions may skip: a tenant's view of a store other tenants share gives
 * its own events alone. So a read from a position says that the view holds nothing else from there; an append
 * recorded past the next position expected reads what lies between (another writer's, or nothing of the view's).
 */
export function tapStore(store: EventStore, tap: (event: RecordedEvent) => void): EventStore {
  /** The position after the last event tapped. */
  let next = 1;
  /** Events the view holds all of from position `from` on (up to the last of them); false at a gap not read yet. */
  const note = (events: readonly RecordedEvent[], from: number): boolean => {
    for (const e of events) {
      if (e.position < next) continue;
      if (e.position > next && from > next) return false;
      next = e.position + 1;
      from = next;
      tap(e);
    }
    return true;
  };
  return {
    // A callback each rather than an async wrapper: every append of a simulation goes through here.
    appendToStream: (stream, events, options) =>
      store.appendToStream(stream, events, options).then((result) =>
        note(result.events, Number.POSITIVE_INFINITY) ? result : store.readAll({ fromPosition: next }).then((between) => (note(between, next), result)),
      ),
    readAll: (options) =>
      store.readAll(options).then((events) => {
        note(events, options?.fromPosition ?? 1);
        return events;
      }),
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

