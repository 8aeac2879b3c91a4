/**
 * Store objects of one process on one file. SQLite's busy wait is synchronous (the thread sleeps until the lock is
 * free or `busy_timeout` has passed), so a handle that waited there for another handle's batch would stop the very
 * event loop that batch needs to finish: it froze the process for the whole timeout, then failed. Instead, the
 * handles of a process on one file share a gate: a batch holds it from its first write to its end, and the other
 * handles' writes wait for it asynchronously (up to the busy timeout: DatabaseBusyError), as a handle's own callers
 * wait for its batch. Other processes are still waited for by SQLite's busy timeout.
 */
import { statSync } from 'node:fs';
import { DatabaseBusyError } from '@hotpatch/store';

interface Shared {
  /** The handle whose batch holds the file's write lock, if one does. */
  holder: symbol | null;
  /** Resolved when the holder lets go. */
  released: Promise<void>;
  letGo: () => void;
  handles: number;
}

export interface FileGate {
  /** This handle's batch took the file's write lock (BEGIN IMMEDIATE). */
  hold(): void;
  /** Its batch ended (committed or rolled back). */
  release(): void;
  /**
   * Waits until no other handle's batch holds the file, or DatabaseBusyError at `deadline` (a time in ms since the
   * epoch: the busy timeout after the write began to wait); undefined when none holds it.
   */
  wait(deadline: number): Promise<void> | undefined;
  /** Whether a write of this handle may go now: no other handle's batch holds the file. */
  free(): boolean;
  /** The handle is closed. */
  leave(): void;
}

const shared = new Map<string, Shared>();

function freshShared(): Shared {
  let letGo!: () => void;
  const released = new Promise<void>((resolve) => (letGo = resolve));
  return { holder: null, released, letGo, handles: 0 };
}

/** The gate of the file at `path` (opened already), shared by this process's handles on it; one of its own for ':memory:'. */
export function fileGate(path: string, timeoutMs: number): FileGate {
  const file = path === ':memory:' || path === '' ? undefined : statSync(path);
  const key = file === undefined ? undefined : `${file.dev}:${file.ino}`;
  let gate = key === undefined ? undefined : shared.get(key);
  if (gate === undefined) {
    gate = freshShared();
    if (key !== undefined) shared.set(key, gate);
  }
  gate.handles++;
  const g = gate;
  const me = Symbol('sqlite handle');
  let left = false;
  const release = () => {
    if (g.holder !== me) return;
    const letGo = g.letGo;
    const next = freshShared();
    g.holder = null;
    g.released = next.released;
    g.letGo = next.letGo;
    letGo();
  };
  return {
    hold() {
      g.holder = me;
    },
    release,
    free: () => g.holder === null || g.holder === me,
    wait(deadline) {
      if (g.holder === null || g.holder === me) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new DatabaseBusyError(path, timeoutMs)), Math.max(0, deadline - Date.now()));
      });
      return Promise.race([g.released, timedOut]).finally(() => clearTimeout(timer));
    },
    leave() {
      if (left) return;
      left = true;
      release();
      if (--g.handles === 0 && key !== undefined && shared.get(key) === g) shared.delete(key);
    },
  };
}
