import type { MachineState } from '@hotpatch/core';

/** A stream's last folded state, with the head it was folded at (version and last hash) and its snapshot's version. */
export interface CachedState {
  readonly version: number;
  readonly hash: string;
  readonly state: MachineState<string, object>;
  /** The version of the stream's snapshot row, as far as this process knows (0: none). */
  readonly snapshotAt: number;
  /** Used since the eviction last passed it (see `remember`). */
  used: boolean;
}

/**
 * The last state a durable store folded for each recently used stream (at most `limit`; 0 keeps none), so that an
 * append to a busy stream need not read and parse its snapshot. The hash chains every event of the stream, so an
 * equal head means the same events and the same state, whoever wrote since.
 */
export class StateCache {
  private readonly entries = new Map<string, CachedState>();

  constructor(private readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`stateCacheSize must be a whole number ≥ 0, not ${limit}`);
  }

  get size(): number {
    return this.entries.size;
  }

  has(stream: string): boolean {
    return this.entries.has(stream);
  }

  get(stream: string): CachedState | undefined {
    return this.entries.get(stream);
  }

  /** The state kept for `stream` if it was folded at this head, else undefined. */
  at(stream: string, version: number, hash: string | undefined): CachedState | undefined {
    const known = this.entries.get(stream);
    return known !== undefined && known.version === version && known.hash === hash ? known : undefined;
  }

  remember(stream: string, version: number, hash: string, state: MachineState<string, object>, snapshotAt: number): void {
    if (this.limit === 0) return;
    // Replacing a key keeps its place in the Map's order (cheap); moving it to the end on every use would cost a
    // delete and an insert, several times the price of the lookup it saves. Eviction gives a used entry a second
    // chance instead (the CLOCK approximation of least recently used): it goes to the end, marked unused.
    this.entries.set(stream, { version, hash, state, snapshotAt, used: true });
    while (this.entries.size > this.limit) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      if (entry.used) {
        entry.used = false;
        this.entries.set(oldest, entry);
      }
    }
  }

  delete(stream: string): void {
    this.entries.delete(stream);
  }
}
