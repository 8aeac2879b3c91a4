/**
 * The errors a store raises, as a tenant's view gives them: stream names its own (`device/x`, not
 * `tenant/acme/device/x`), event ids as the tenant gave them, and nothing of another tenant: an id held by a
 * stream outside the tenant is said to be taken, never by which stream.
 */
import { InvalidEventError, TransitionRefusedError } from '@hotpatch/core';
import { CheckpointConflictError, ConsumerFailedError, DuplicateEventIdError, EventIdReusedError, EventIdTakenError, IdempotencyConflictError, WrongExpectedVersionError } from './errors.js';
import type { TenantIds } from './tenant-ids.js';

/** What a view knows to translate: its own streams' local names (undefined for a stream outside it) and its ids. */
export interface ViewNames {
  /** A stored stream's local name; undefined when the stream is not this tenant's. */
  readonly localStream: (stream: string) => string | undefined;
  readonly ids: TenantIds;
}

/** What stands for a stream outside the tenant, where an error must say that some stream holds an id. */
export const OUTSIDE_THE_TENANT = '(a stream outside this tenant)';

/** A store's error about the stream `local` (stored as another name), in the view's terms; other errors as they are. */
export function localStreamError(error: unknown, local: string, view: ViewNames): unknown {
  const id = (stored: string) => (stored === '(no id)' ? stored : view.ids.local(stored));
  if (error instanceof WrongExpectedVersionError) return new WrongExpectedVersionError(local, error.expected, error.actual);
  if (error instanceof IdempotencyConflictError) return new IdempotencyConflictError(local, error.heldIds.map(id), error.newIds.map(id));
  if (error instanceof EventIdReusedError) return new EventIdReusedError(local, id(error.id), error.recorded, error.sentType, error.differs);
  if (error instanceof DuplicateEventIdError) return new DuplicateEventIdError(local, id(error.id));
  if (error instanceof EventIdTakenError) {
    const holder = view.localStream(error.holder.stream);
    return new EventIdTakenError(local, id(error.id), holder === undefined ? { stream: OUTSIDE_THE_TENANT, version: 0 } : { stream: holder, version: error.holder.version });
  }
  if (error instanceof TransitionRefusedError) return new TransitionRefusedError({ ...error.at, stream: local }, error.state, error.eventType, error.accepted, error.rule, error.detail);
  if (error instanceof InvalidEventError && error.at.stream !== undefined) return new InvalidEventError({ ...error.at, stream: local }, error.problem, error.field);
  return error;
}

/** A consumer's error (stored under another name) under the consumer's own name. */
export function localConsumerError(error: unknown, consumer: string): unknown {
  if (error instanceof ConsumerFailedError) return new ConsumerFailedError(consumer, error.position, error.cause);
  if (error instanceof CheckpointConflictError) return new CheckpointConflictError(consumer, error.expected, error.actual);
  return error;
}
