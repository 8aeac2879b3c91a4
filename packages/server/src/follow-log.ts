/**
 * Appends made by other processes (another instance over the same PostgreSQL, the CLI on the same SQLite file) wake
 * this instance's waiters too: while anyone waits (a long-polling agent, a live tail), the log's tail is read from
 * where this instance last looked and each stream written there is woken. Over PostgreSQL the read follows each
 * NOTIFY an append sends; elsewhere it is done every `pollMs`. Nobody waiting, nothing is read. A wake-up is a hint
 * (the waiter reads the store itself): one missed — a look starting past an append, as when a projection's position
 * ran ahead of a group that then rolled back and another writer took its positions — costs a late answer at the end
 * of the wait, never a wrong one.
 */
import type { EventStore } from '@hotpatch/store';
import type { Changes } from './changes.js';

/** A store that can say when the log may have grown (the PostgreSQL store's LISTEN): a hint to read, never a fact. */
interface NewsStore {
  waitForNews(ms: number, signal: AbortSignal): Promise<void>;
}
const hasNews = (store: EventStore): store is EventStore & NewsStore => typeof (store as Partial<NewsStore>).waitForNews === 'function';

export interface LogFollowerOptions {
  /** The longest between two looks at the log while someone waits (default 1,000 ms). */
  readonly pollMs?: number;
  /** Events read per page (default 1,000). */
  readonly page?: number;
  /** A position at or before the log's end as this instance knows it: where a new look starts. */
  readonly known: () => number;
  /** A read failed (the store away): said once per outage by the caller; the follower tries again after pollMs. */
  readonly failed?: (error: unknown) => void;
}

export interface LogFollower {
  stop(): Promise<void>;
}

export function followLog(store: EventStore, changes: Changes, options: LogFollowerOptions): LogFollower {
  const pollMs = options.pollMs ?? 1000;
  const page = options.page ?? 1000;
  const stopper = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopper.signal.removeEventListener('abort', done);
        resolve();
      }
      stopper.signal.addEventListener('abort', done, { once: true });
    });
  const news = (ms: number) => (hasNews(store) ? store.waitForNews(ms, stopper.signal) : pause(ms));

  const run = async () => {
    /** Where the last look ended; -1 when nobody waited since (the next look starts at what is known then). */
    let seen = -1;
    /** Where the last look ended before nobody waited: read already, so a new look need not start before it. */
    let looked = -1;
    while (!stopper.signal.aborted && !changes.closing) {
      if (!changes.waiting()) {
        looked = Math.max(looked, seen);
        seen = -1;
        await changes.someoneWaits(stopper.signal);
        continue;
      }
      // A waiter reads the store after it registers, so a look from what is known now misses nothing it waits for.
      // (What this follower read before nobody waited was read before that waiter registered: also safe to start at.)
      if (seen < 0) seen = Math.max(options.known(), looked);
      try {
        for (;;) {
          const events = await store.readAll({ fromPosition: seen + 1, limit: page });
          if (events.length === 0) break;
          seen = events.at(-1)!.position;
          changes.seen(new Set(events.map((e) => e.stream)));
          if (events.length < page) break;
        }
      } catch (error) {
        if (stopper.signal.aborted) return;
        options.failed?.(error);
        await pause(pollMs);
        continue;
      }
      await news(pollMs);
    }
  };
  // run() throws only if `failed` does: said there, not as an unhandled rejection.
  const running = run().catch(() => {});
  return {
    async stop() {
      stopper.abort();
      await running;
    },
  };
}
