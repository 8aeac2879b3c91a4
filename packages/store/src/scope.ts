/**
 * A tenant's view of a store: `scopeStore(store, tenant)` is an EventStore that holds that tenant's fleet and
 * nothing else. Its callers name streams as a store without tenants would (`device/x`, `rollout/r`, `ring/pilot`);
 * the store beneath keeps them under the tenant's prefix (`tenant/<tenant>/device/x`, stream-name.ts) and each event
 * id masked with the tenant's own mask (tenant-ids.ts). The default tenant (`undefined` or `default`) keeps its
 * names and ids as they are (every log written before tenants) and sees none of the named tenants' streams, nor any
 * stream of a kind the service keeps for itself.
 *
 * Nothing of another tenant is visible or writable: a read of a stream only another tenant has reads a missing
 * stream; `readAll` and `subscribe` give the tenant's events alone (at their global positions, so positions have
 * gaps); consumer checkpoints and saved projections are the tenant's own (`tenant/<tenant>/<name>` beneath); an
 * error names the tenant's streams by their local names and ids, and an id held outside the tenant without saying
 * where. Events carry the hashes the store computed, over the stored names and ids: `storedEvent` gives an event
 * back as the log holds it, which is what verifies (and what a tenant's export writes).
 *
 * `close()` closes the view, not the store beneath, which its owner closes (a service keeps one store for every
 * tenant's view): calls made after it are StoreClosedError, and it resolves once the calls in flight settle.
 */
import { VERIFIED_HASHES } from './verified-hashes.js';
import { checkConsumerName, checkReadOptions, checkStreamName, checkProjectionSave } from './stream-rules.js';
import { InvalidEventError, isLowerUuid, STREAM_NAME_HINT, TENANT_STREAM_PREFIX, initialStateFor, quoteText } from '@hotpatch/core';
import { ReservedNameError, StoreClosedError } from './errors.js';
import { localConsumerError, localStreamError, type ViewNames } from './scope-errors.js';
import { tenantLens } from './tenant-lens.js';
import type { AppendOptions, AppendResult, EventHandler, EventStore, Fence, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SavedProjection, StreamStateRead, SubscribeOptions, Subscription } from './types.js';

export interface ScopeOptions {
  /** A secret mixed into the tenant's id mask (see tenant-ids.ts); the same for the life of the store. */
  readonly idKey?: string | Buffer;
}

/** A tenant's view of a store (see scopeStore). */
export interface ScopedEventStore extends EventStore {
  /** The named tenant; undefined for the default tenant. */
  readonly tenant: string | undefined;
  /** An event of this view as the log holds it: its full stream name and stored id (what its hash covers). */
  storedEvent(event: RecordedEvent): RecordedEvent;
  /** An event of the log as this view gives it; undefined for an event of another tenant's (or of the service's). */
  localEvent(event: RecordedEvent): RecordedEvent | undefined;
}

/** How many events a view reads at a time from the store beneath, looking for its tenant's among others'. */
const SCAN_PAGE = 1_000;

/** A tenant's view of `store` (InvalidTenantError for a tenant that breaks the tenant rule). */
export function scopeStore(store: EventStore, tenant: string | undefined, options: ScopeOptions = {}): ScopedEventStore {
  const lens = tenantLens(tenant, options);
  const { tenant: named, prefix, ids, mine } = lens;
  const full = lens.stored;
  const label = named === undefined ? 'the default tenant’s view' : `tenant ${quoteText(named)}’s view`;
  const view: ViewNames = { localStream: lens.local, ids };
  const localEvent = (event: RecordedEvent): RecordedEvent | undefined => lens.localEvent(event);
  const local = (event: RecordedEvent): RecordedEvent => lens.localEvent(event)!;
  const storedEvent = (event: RecordedEvent): RecordedEvent => lens.storedEvent(event);

  /** The stored name of a stream to write: the store's own checks first (InvalidEventError, InvalidIdError), then the tenant's. */
  const writable = (stream: string): string => {
    checkStreamName(stream);
    const stored = full(stream);
    if (stored === undefined) throw new InvalidEventError({ stream }, `expected ${STREAM_NAME_HINT}, named without a tenant's prefix, got ${quoteText(stream)}`, 'stream');
    return stored;
  };
  const ownName = (what: 'consumer' | 'projection', name: string): string => {
    if (named !== undefined) return prefix + name;
    if (typeof name === 'string' && name.startsWith(TENANT_STREAM_PREFIX)) throw new ReservedNameError(what, name);
    return name;
  };

  let closed = false;
  let inFlight = 0;
  let settled: (() => void) | undefined;
  const left = () => {
    if (--inFlight === 0) settled?.();
  };
  /**
   * Runs a call counted in flight (close() waits for it), its result passed through `ok` and its rejection through
   * `fail` (a throw of `call` itself is passed as it is). No async frame of its own: every call of every request goes
   * through here, and each promise made costs more under the batches' AsyncLocalStorage.
   */
  const guard = <T, U = T>(call: () => Promise<T>, ok?: (value: T) => U, fail?: (error: unknown) => unknown): Promise<U> => {
    if (closed) return Promise.reject(new StoreClosedError(label));
    inFlight++;
    let running: Promise<T>;
    try {
      running = call();
    } catch (error) {
      left();
      return Promise.reject(error);
    }
    return running.then(
      (value) => {
        left();
        return ok === undefined ? (value as unknown as U) : ok(value);
      },
      (error: unknown) => {
        left();
        throw fail === undefined ? error : fail(error);
      },
    );
  };

  const readTenantLog = async (options: ReadAllOptions): Promise<RecordedEvent[]> => {
    checkReadOptions('readAll', options);
    const limit = options.limit;
    if (limit === undefined) return (await store.readAll(options.fromPosition === undefined ? {} : { fromPosition: options.fromPosition })).filter((e) => mine(e.stream)).map(local);
    const found: RecordedEvent[] = [];
    for (let from = options.fromPosition ?? 1; found.length < limit; ) {
      const asked = Math.max(SCAN_PAGE, limit - found.length);
      const page = await store.readAll({ fromPosition: from, limit: asked });
      for (const e of page) if (mine(e.stream) && found.length < limit) found.push(local(e));
      if (page.length < asked) break;
      from = page[page.length - 1]!.position + 1;
    }
    return found;
  };

  const scoped: ScopedEventStore = {
    tenant: named,
    storedEvent,
    localEvent,

    appendToStream: (stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> =>
      guard(
        () => {
          const stored = writable(stream);
          const given = named === undefined || !Array.isArray(events) ? events : events.map((e) => (e !== null && typeof e === 'object' && typeof e.id === 'string' ? { ...e, id: ids.stored(e.id) } : e));
          try {
            // A checked run's hashes cover the caller's names and ids, not the stored ones: the store beneath hashes.
            const passed = named !== undefined && options !== undefined && VERIFIED_HASHES in options ? { ...options, [VERIFIED_HASHES]: undefined } : options;
            return store.appendToStream(stored, given, passed);
          } catch (error) {
            return Promise.reject(error);
          }
        },
        named === undefined ? undefined : (result) => ({ ...result, stream, events: result.events.map(local) }),
        // The default tenant's too: an id held by a named tenant's stream must not name it.
        (error) => localStreamError(error, stream, view),
      ),

    readStream: (stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> =>
      guard(async () => {
        checkReadOptions(`readStream ${stream}`, options);
        const stored = full(stream);
        return stored === undefined ? [] : (await store.readStream(stored, options)).map(local);
      }),

    readAll: (options: ReadAllOptions = {}) => guard(() => readTenantLog(options)),

    readEvent: (stream: string, id: string) =>
      guard(async () => {
        const stored = full(stream);
        if (stored === undefined || typeof id !== 'string' || !isLowerUuid(id)) return undefined;
        const event = await store.readEvent(stored, ids.stored(id));
        return event === undefined ? undefined : local(event);
      }),

    streamVersion: (stream: string) =>
      guard(async () => {
        const stored = full(stream);
        return stored === undefined ? 0 : store.streamVersion(stored);
      }),

    readState: (stream: string): Promise<StreamStateRead> =>
      guard(
        () => {
          const stored = full(stream);
          return stored === undefined ? Promise.resolve({ stream, version: 0, state: initialStateFor(stream), snapshotVersion: 0, eventsFolded: 0 }) : store.readState(stored);
        },
        (read) => ({ ...read, stream }),
      ),

    readCheckpoint: (consumer: string) => guard(() => store.readCheckpoint(ownName('consumer', consumer))),
    // The tenant's own name checked (an empty one would save the prefix's), as every store checks it.
    saveCheckpoint: (consumer: string, expected: number, next: number) => guard(() => (checkConsumerName(consumer), store.saveCheckpoint(ownName('consumer', consumer), expected, next))),

    readProjection: (name: string): Promise<SavedProjection | undefined> => guard(() => store.readProjection(ownName('projection', name))),
    saveProjection: (name: string, position: number, data: string | readonly string[]) =>
      guard(async () => {
        checkProjectionSave(name, position, data);
        return store.saveProjection(ownName('projection', name), position, data);
      }),

    subscribe(consumer: string, handler: EventHandler, options?: SubscribeOptions): Subscription {
      checkConsumerName(consumer);
      if (closed) throw new StoreClosedError(label);
      // The store's own consumer (its exclusive lock across processes, where it keeps one) under the tenant's name;
      // its checkpoint moves over other tenants' events too, so positions and waitFor are the log's.
      const sub = store.subscribe(ownName('consumer', consumer), (event) => (mine(event.stream) ? handler(local(event)) : undefined), options);
      const done = sub.done.catch((error: unknown) => {
        throw localConsumerError(error, consumer);
      });
      done.catch(() => {});
      return {
        consumer,
        position: () => sub.position(),
        waitFor: (position) => sub.waitFor(position).catch((error: unknown) => Promise.reject(localConsumerError(error, consumer))),
        stop: () => sub.stop(),
        done,
      };
    },

    async close(): Promise<void> {
      closed = true;
      if (inFlight > 0) await new Promise<void>((resolve) => (settled = resolve));
    },
  };
  if (store.batch !== undefined) scoped.batch = <T>(fn: () => Promise<T>): Promise<T> => guard(() => store.batch!(fn));
  // A hint under the tenant's names; a name the tenant cannot hold is no stream of its.
  if (store.willAppend !== undefined) {
    scoped.willAppend = (streams: readonly string[]) =>
      guard(async () => {
        const stored = streams.map(full).filter((s): s is string => s !== undefined);
        if (stored.length > 0) await store.willAppend!(stored);
      });
  }
  // A fence names a lease, not a stream: it passes through unchanged (a lease is the store's, whatever the view).
  if (store.fencedBatch !== undefined) scoped.fencedBatch = <T>(fence: Fence, fn: () => Promise<T>): Promise<T> => guard(() => store.fencedBatch!(fence, fn));
  return scoped;
}
