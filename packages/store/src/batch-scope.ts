/**
 * Which store batches the running code is inside, for every store object of the process (SQLite's and PostgreSQL's):
 * a store's batch lets its own calls through and makes the others wait. One AsyncLocalStorage for all, not one per
 * store object: Node 20 makes every promise created pay for each AsyncLocalStorage ever run (closing the store cannot
 * undo it), so a process that opened many stores (the interleaving harness: two thousand) slowed at every await.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const inside = new AsyncLocalStorage<ReadonlySet<symbol>>();

export const batchScope = {
  /** Runs `fn` inside the batch `token`, and still inside the batches (of any store) it was called in. */
  run: <T>(token: symbol, fn: () => T): T => inside.run(new Set<symbol>(inside.getStore()).add(token), fn),
  /** Whether the running code is inside the batch `token`. */
  within: (token: symbol): boolean => inside.getStore()?.has(token) === true,
};
