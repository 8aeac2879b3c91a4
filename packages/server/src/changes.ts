/**
 * What wakes the service's waiters: the store the service writes through is observed, and each committed append
 * names its stream. An agent's long-poll waits on its device's stream, a live tail on the whole log; both read the
 * store again when woken (a wake-up says "look", the store says what), so a lost wake-up costs a late answer, never
 * a wrong one. Appends by other processes (the CLI, another instance) are not seen here: a long-poll then answers
 * at the end of its wait, a live tail at its next heartbeat.
 */
import type { AppendResult, EventStore } from '@hotpatch/store';

export interface AppendObserver {
  /** After a commit: the streams appended to, the events written, and how long the append took (ms). */
  appended(streams: readonly string[], events: number, lastPosition: number, ms: number): void;
}

/**
 * The store as it is, whose appends are told to `observer` once committed: at once outside a batch, at the end of
 * the batch (and not at all when it fails) inside one.
 */
export function observeStore<S extends EventStore>(store: S, observer: AppendObserver): S {
  let depth = 0;
  let pending: Array<{ stream: string; result: AppendResult; ms: number }> = [];
  const tell = (items: typeof pending) => {
    const written = items.filter((i) => i.result.written);
    if (written.length === 0) return;
    const last = Math.max(...written.map((i) => i.result.positions.at(-1) ?? 0));
    const events = written.reduce((n, i) => n + i.result.positions.length, 0);
    observer.appended([...new Set(written.map((i) => i.stream))], events, last, written.reduce((n, i) => n + i.ms, 0));
  };
  // No async frame of its own (every append of every report comes through here): the store's promise carried on.
  const appendToStream: EventStore['appendToStream'] = (stream, events, options) => {
    const started = performance.now();
    let appended;
    try {
      appended = store.appendToStream(stream, events, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return appended.then((result) => {
      const item = { stream, result, ms: performance.now() - started };
      if (depth > 0) pending.push(item);
      else tell([item]);
      return result;
    });
  };
  const batch = async <T>(fn: () => Promise<T>): Promise<T> => {
    depth++;
    let ok = false;
    try {
      const out = await store.batch!(fn);
      ok = true;
      return out;
    } finally {
      depth--;
      if (depth === 0) {
        const items = pending;
        pending = [];
        if (ok) tell(items);
      }
    }
  };
  // A method bound once, not at every call (the service reads its token through here at every request).
  const bound = new Map<PropertyKey, { of: unknown; fn: unknown }>();
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'appendToStream') return appendToStream;
      if (key === 'batch') return target.batch ? batch : undefined;
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const kept = bound.get(key);
      if (kept !== undefined && kept.of === value) return kept.fn;
      const fn = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(key, { of: value, fn });
      return fn;
    },
  });
}

type Wake = () => void;

/** Waiters on a stream or on the whole log, woken by the observed appends. */
export class Changes implements AppendObserver {
  private readonly byStream = new Map<string, Set<Wake>>();
  private readonly onLog = new Set<Wake>();
  private closed = false;
  /** The last position this process appended at (what the projection lag is measured against). */
  lastPosition = 0;
  private readonly listeners: AppendObserver[] = [];

  /** Another observer of the same appends (the metrics). */
  also(observer: AppendObserver): void {
    this.listeners.push(observer);
  }

  appended(streams: readonly string[], events: number, lastPosition: number, ms: number): void {
    this.lastPosition = Math.max(this.lastPosition, lastPosition);
    for (const l of this.listeners) l.appended(streams, events, lastPosition, ms);
    this.seen(streams);
  }

  /**
   * Appends of the report thread (report-thread.ts), taken in by its own projection as it wrote them: woken and
   * counted as this thread's are, but no lag of this instance's projection (lastPosition is left as it is).
   */
  appendedAside(streams: readonly string[], events: number, lastPosition: number, ms: number): void {
    for (const l of this.listeners) l.appended(streams, events, lastPosition, ms);
    this.seen(streams);
  }

  /** Streams written (here, or by another process: see follow-log.ts): their waiters, and the log's, are woken. */
  seen(streams: Iterable<string>): void {
    for (const stream of streams) {
      const waiters = this.byStream.get(stream);
      if (waiters === undefined) continue;
      this.byStream.delete(stream);
      for (const wake of waiters) wake();
    }
    const log = [...this.onLog];
    this.onLog.clear();
    for (const wake of log) wake();
  }

  /** Whether anyone waits now. */
  waiting(): boolean {
    return this.onLog.size > 0 || this.byStream.size > 0;
  }

  private readonly firstWaiter = new Set<() => void>();
  /** Resolves when a waiter registers (at once if one waits), on abort, or when the service closes. */
  someoneWaits(signal: AbortSignal): Promise<void> {
    if (this.waiting() || this.closed || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.firstWaiter.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.firstWaiter.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * A wait, registered now (before the caller reads the store, so that an append between the read and the wait is
   * not missed): `until` resolves true when woken, false when `ms` passed, the signal aborted or the service closed.
   */
  waiter(stream: string | null, signal?: AbortSignal): { until(ms: number): Promise<boolean>; cancel(): void } {
    let wake!: (woken: boolean) => void;
    const woken = new Promise<boolean>((resolve) => (wake = resolve));
    const onWake: Wake = () => wake(true);
    if (this.closed) wake(false);
    else if (stream === null) this.onLog.add(onWake);
    else {
      const set = this.byStream.get(stream) ?? new Set<Wake>();
      set.add(onWake);
      this.byStream.set(stream, set);
    }
    if (!this.closed && this.firstWaiter.size > 0) for (const done of [...this.firstWaiter]) done();
    const drop = () => {
      if (stream === null) this.onLog.delete(onWake);
      else {
        const set = this.byStream.get(stream);
        // An empty set would count as someone waiting (waiting()).
        if (set?.delete(onWake) === true && set.size === 0) this.byStream.delete(stream);
      }
    };
    return {
      cancel: drop,
      until: async (ms) => {
        const timer = setTimeout(() => wake(false), Math.max(0, ms));
        const abort = () => wake(false);
        signal?.addEventListener('abort', abort, { once: true });
        try {
          return await woken;
        } finally {
          clearTimeout(timer);
          signal?.removeEventListener('abort', abort);
          drop();
        }
      },
    };
  }

  /** Whether the service is closing: waiters answer at once. */
  get closing(): boolean {
    return this.closed;
  }

  /** Wakes every waiter with false and refuses new waits: the service is closing. */
  close(): void {
    this.closed = true;
    for (const done of [...this.firstWaiter]) done();
    for (const set of this.byStream.values()) for (const wake of set) wake();
    for (const wake of this.onLog) wake();
    this.byStream.clear();
    this.onLog.clear();
  }
}
