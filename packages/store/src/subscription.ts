/**
 * Consumers, written once over the store primitives (readAll, readCheckpoint, saveCheckpoint) so that every store
 * delivers the same way: from the durable checkpoint, in global order, at least once, the checkpoint moved with
 * compare-and-set after each batch is handled; a handler's error stops the consumer at that event.
 */
import { CheckpointConflictError, ConsumerFailedError } from './errors.js';
import { checkConsumerName } from './stream-rules.js';
import type { EventHandler, EventStore, SubscribeOptions, Subscription } from './types.js';

export interface SubscriptionHooks {
  /** Resolves when new events may be there (an in-process append, a notification) or after `ms`, whichever first. */
  readonly waitForNews?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * In-process wake-ups for a store's consumers: an append calls `wake()`, and a consumer waiting for news resolves
 * on the next wake-up, after `ms`, on abort, or when `also` settles (a database notification), whichever first.
 */
export function createWakeups() {
  const waiting = new Set<() => void>();
  return {
    wake(): void {
      for (const done of waiting) done();
    },
    waitForNews(ms: number, signal: AbortSignal, also?: Promise<unknown>): Promise<void> {
      return new Promise<void>((resolve) => {
        // An aborted signal never fires 'abort' again: do not wait for it.
        if (signal.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          waiting.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waiting.add(done);
        signal.addEventListener('abort', done, { once: true });
        also?.then(done, () => {});
      });
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function createSubscription(
  store: Pick<EventStore, 'readAll' | 'readCheckpoint' | 'saveCheckpoint'>,
  consumer: string,
  handler: EventHandler,
  options: SubscribeOptions = {},
  hooks: SubscriptionHooks = {},
): Subscription {
  // Refused before anything runs: a name no store need keep would fail at its first checkpoint.
  checkConsumerName(consumer);
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 50;
  const waitForNews = hooks.waitForNews ?? sleep;
  const stopper = new AbortController();
  let position = 0;
  let failure: unknown;
  const waiters = new Set<{ position: number; resolve: () => void; reject: (e: unknown) => void }>();
  const settleWaiters = () => {
    for (const w of waiters) {
      if (failure !== undefined) w.reject(failure);
      else if (position >= w.position) w.resolve();
      else continue;
      waiters.delete(w);
    }
  };

  const loop = async () => {
    position = await store.readCheckpoint(consumer);
    settleWaiters();
    while (!stopper.signal.aborted) {
      const batch = await store.readAll({ fromPosition: position + 1, limit: batchSize });
      if (batch.length === 0) {
        // stop() may have come while reading: an aborted signal fires no more, so do not wait for it.
        if (stopper.signal.aborted) break;
        await waitForNews(pollIntervalMs, stopper.signal);
        continue;
      }
      let handled = position;
      let error: unknown;
      let failedAt = 0;
      for (const event of batch) {
        try {
          await handler(event);
          handled = event.position;
        } catch (e) {
          error = e;
          failedAt = event.position;
          break;
        }
        if (stopper.signal.aborted) break;
      }
      if (handled > position) {
        if (!(await store.saveCheckpoint(consumer, position, handled))) {
          throw new CheckpointConflictError(consumer, position, await store.readCheckpoint(consumer));
        }
        position = handled;
        settleWaiters();
      }
      if (error !== undefined) throw new ConsumerFailedError(consumer, failedAt, error);
    }
  };

  const done = loop().then(
    () => {
      for (const w of waiters) w.reject(new Error(`consumer ${consumer} stopped at ${position} before reaching ${w.position}`));
      waiters.clear();
    },
    (error: unknown) => {
      failure = error;
      settleWaiters();
      throw error;
    },
  );
  // The failure is reported through `done` and `waitFor`; an unobserved rejection must not crash the process.
  done.catch(() => {});

  return {
    consumer,
    position: () => position,
    waitFor: (target) =>
      new Promise<void>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        if (position >= target) return resolve();
        waiters.add({ position: target, resolve, reject });
      }),
    stop: async () => {
      stopper.abort();
      await done.catch(() => {});
    },
    done,
  };
}
