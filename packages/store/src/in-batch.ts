import { FencingUnsupportedError } from './errors.js';
import type { EventStore, Fence } from './types.js';

/**
 * Runs `fn` in one store transaction where the store groups writes (see EventStore.batch), else as it is; with a
 * fence, in a fenced batch (FencingUnsupportedError from a store that keeps no leases: a fence is never ignored).
 */
export function inBatch<T>(store: EventStore, fn: () => Promise<T>, fence?: Fence): Promise<T> {
  if (fence !== undefined) {
    if (store.fencedBatch === undefined) return Promise.reject(new FencingUnsupportedError(fence.lease));
    return store.fencedBatch(fence, fn);
  }
  return store.batch ? store.batch(fn) : fn();
}
