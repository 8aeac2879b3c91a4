/**
 * A store that dies: wraps any EventStore and, once armed, throws after the k-th append of a unit of work that wrote
 * something (the append itself done: a process killed between one commit and the next). From then on every call
 * throws, as a dead process does nothing more; a fresh instance is given the inner store. Where the store groups a
 * unit's appends in one transaction (`batch`), the throw rolls the whole unit back; `hideBatch` takes `batch` away, so
 * that each append commits on its own and a crash leaves what the unit wrote before it (a store without transactions,
 * or one used without them). Test-only: not built nor published.
 */
import type { AppendOptions, AppendResult, EventStore, NewEvent } from '@hotpatch/store';

/** What a crash throws: nothing after it is the instance's doing. */
export class ProcessKilled extends Error {
  constructor(readonly afterCommits: number) {
    super(`process killed after ${afterCommits} commit${afterCommits === 1 ? '' : 's'} of its unit of work`);
  }
}

export interface CrashStore {
  /** The store to give the instance that will crash. */
  readonly store: EventStore;
  /** Starts counting the appends that write (a unit of work begins); with `k`, throws right after the k-th. */
  arm(k?: number): void;
  /** The appends that wrote since `arm`. */
  readonly commits: number;
  /** Whether it crashed. */
  readonly dead: boolean;
}

export interface CrashStoreOptions {
  readonly hideBatch?: boolean;
  /**
   * In the unit armed to crash, the appends to these streams are acknowledged and never kept (as if the device's
   * writes were lost and the rollout's kept): the one gap a crash cannot leave with today's order of appends, an
   * instruction recorded without the device's steps, which a log written otherwise (an earlier version, a store that
   * lost writes) can hold.
   */
  readonly lose?: (stream: string) => boolean;
}

export function crashStore(inner: EventStore, options: CrashStoreOptions = {}): CrashStore {
  const state = { commits: 0, crashAt: undefined as number | undefined, dead: false };
  const alive = () => {
    if (state.dead) throw new ProcessKilled(state.commits);
  };
  const lost = async (stream: string, events: readonly NewEvent[], expected: AppendOptions['expectedVersion']): Promise<AppendResult> => {
    const from = typeof expected === 'number' ? expected : await inner.streamVersion(stream);
    const versions = events.map((_, i) => from + 1 + i);
    return { stream, nextExpectedVersion: from + events.length, positions: [], versions, written: true, events: [] };
  };
  const appendToStream = async (stream: string, events: readonly NewEvent[], appendOptions?: AppendOptions): Promise<AppendResult> => {
    alive();
    const losing = state.crashAt !== undefined && options.lose?.(stream) === true;
    const result = losing ? await lost(stream, events, appendOptions?.expectedVersion) : await inner.appendToStream(stream, events, appendOptions);
    if (result.written && ++state.commits === state.crashAt) {
      state.dead = true;
      throw new ProcessKilled(state.commits);
    }
    return result;
  };
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'appendToStream') return appendToStream;
      if (key === 'batch' && (options.hideBatch || target.batch === undefined)) return undefined;
      if (key === 'close') return () => target.close();
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        alive();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    has(target, key) {
      return key === 'batch' && options.hideBatch ? false : Reflect.has(target, key);
    },
  });
  return {
    store,
    arm(k) {
      state.commits = 0;
      state.crashAt = k;
    },
    get commits() {
      return state.commits;
    },
    get dead() {
      return state.dead;
    },
  };
}
