/**
 * What each promise created costs in async context: Node 20 calls `_propagate` once per AsyncLocalStorage in use for
 * every promise, and nothing ever takes one out of use but disable(). A store that made one per store object made a
 * process that opened many stores slower at every await (see batchScope). Undefined on a Node without that method.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

type Propagating = { _propagate?: (...args: unknown[]) => void };

export function asyncContextsPerPromise(): number | undefined {
  const proto = AsyncLocalStorage.prototype as unknown as Propagating;
  const original = proto._propagate;
  if (typeof original !== 'function') return undefined;
  let calls = 0;
  proto._propagate = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    void new Promise<void>(() => {});
  } finally {
    proto._propagate = original;
  }
  return calls;
}
