/**
 * The scheduler's hold on every await that matters: each orchestrator instance reaches the one store through a gated
 * view of it, and each call it makes of the store stops (parks) before it runs, and a write also after it ran (its
 * effect kept, its answer not given back yet), until the scheduler lets it go on — or kills the instance there: the
 * parked call then throws `ProcessKilled`, and so does every later call of that instance (a dead process does nothing
 * more). Parking before a write is a crash between deciding and appending; after it, between appending and applying.
 */
import type { EventStore } from '@hotpatch/store';

/** What a crash throws into the instance: nothing it does after this is kept. */
export class ProcessKilled extends Error {
  constructor(readonly instance: string) {
    super(`${instance} was killed (a simulated crash)`);
  }
}

/** An instance as the gate knows it: its name (for the schedule) and whether it was killed. */
export interface Owner {
  readonly name: string;
  dead: boolean;
}

/** A store call waiting for the scheduler. */
export interface Parked {
  readonly owner: Owner;
  /** The call as the schedule shows it (`append device/p1 [PatchStaged]`). */
  readonly call: string;
  /** Before the call ran, or after a write ran (its answer not given back yet). */
  readonly phase: 'before' | 'after';
  go(): void;
  kill(): void;
}

/** The calls parked at the gate, in the order they reached it. */
export class Gate {
  readonly parked: Parked[] = [];

  park(owner: Owner, call: string, phase: 'before' | 'after'): Promise<void> {
    if (owner.dead) return Promise.reject(new ProcessKilled(owner.name));
    return new Promise<void>((go, fail) => this.parked.push({ owner, call, phase, go, kill: () => fail(new ProcessKilled(owner.name)) }));
  }

  /** Lets the k-th parked call go on; what it was. */
  resume(k: number): Parked {
    const [p] = this.parked.splice(k, 1);
    p!.go();
    return p!;
  }

  /** Kills the instance: each of its parked calls throws, and so will every call it makes from now on. */
  kill(owner: Owner): void {
    owner.dead = true;
    for (let k = this.parked.length - 1; k >= 0; k--) {
      if (this.parked[k]!.owner !== owner) continue;
      const [p] = this.parked.splice(k, 1);
      p!.kill();
    }
  }
}

/** The store calls the gate holds; the writes are held after they ran too. */
const READS = new Set(['readStream', 'readAll', 'readEvent', 'streamVersion', 'readState', 'readCheckpoint', 'readProjection']);
const WRITES = new Set(['appendToStream', 'saveCheckpoint', 'saveProjection']);

/** How a call is shown in the schedule. */
function describe(method: string, args: readonly unknown[]): string {
  if (method === 'appendToStream') {
    const events = args[1] as ReadonlyArray<{ readonly type: string }>;
    return `append ${String(args[0])} [${events.map((e) => e.type).join(', ')}]`;
  }
  if (method === 'readAll') return `readAll from ${(args[0] as { fromPosition?: number } | undefined)?.fromPosition ?? 1}`;
  return typeof args[0] === 'string' ? `${method} ${args[0]}` : method;
}

/**
 * The store as one instance sees it: every read and write parked at the gate (a write before and after it runs). A
 * store that groups writes keeps its `batch` (the unit's transaction is the store's, the gate parks inside it).
 */
export function gatedStore(inner: EventStore, owner: Owner, gate: Gate): EventStore {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || typeof value !== 'function') return value;
      const method = value as (...a: unknown[]) => Promise<unknown>;
      if (!READS.has(key) && !WRITES.has(key)) {
        if (key !== 'batch') return method.bind(target);
        // The unit's transaction: its writes park inside it (a crash there rolls it back), and its commit parks after.
        return async (fn: () => Promise<unknown>) => {
          if (owner.dead) throw new ProcessKilled(owner.name);
          const result = await method.call(target, fn);
          await gate.park(owner, 'commit', 'after');
          return result;
        };
      }
      return async (...args: unknown[]) => {
        const call = describe(key, args);
        await gate.park(owner, call, 'before');
        const result = await method.apply(target, args);
        if (WRITES.has(key)) await gate.park(owner, call, 'after');
        return result;
      };
    },
  });
}
