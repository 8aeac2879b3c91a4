/** What an orchestrator remembers between units of work, so that a tick looks at what may have changed, not at everything. */
import { MapDraft, SetDraft } from './overlay.js';

/** A rollout's ring members it has not instructed nor settled yet, in enrolment order, and the ring's size then. */
export interface Waiting {
  readonly ring: string;
  readonly members: number;
  readonly ids: readonly string[];
}

export interface Memory {
  /**
   * Devices to look at for catching up: each device once when the instance starts (or rebuilds its projection), then
   * each device as it enrols; a device leaves the set once nothing is left for it to catch up with.
   */
  readonly behind: Set<string>;
  /** Whether every device was put in `behind` once. */
  examinedAll: boolean;
  /** The (rollout, ring) turns seen over: their rings' members the rollout never reached are looked at once. */
  readonly turnsOver: Set<string>;
  /** By rollout: the devices of its ring still waiting for an instruction (a tick need not scan the whole ring). */
  readonly waiting: Map<string, Waiting>;
  /**
   * A halted rollout's devices that hold its patch or may still come to (in flight), listed once at the halt and
   * narrowed as they settle, so that the ticks and reports after a halt do not scan everything it instructed.
   */
  readonly haltWatch: Map<string, Set<string>>;
}

export const emptyMemory = (): Memory => ({ behind: new Set(), examinedAll: false, turnsOver: new Set(), waiting: new Map(), haltWatch: new Map() });

const NOTHING: ReadonlySet<string> = new Set();
const NO_WATCHES: ReadonlyMap<string, SetDraft<string>> = new Map();

/** The memory as a decision changes it. */
export class MemoryDraft {
  readonly behind: SetDraft<string>;
  examinedAll: boolean;
  readonly turnsOver: SetDraft<string>;
  readonly waiting: MapDraft<string, Waiting>;
  /** The halts watched, by key (made at the first). */
  private watches: Map<string, SetDraft<string>> | undefined;

  constructor(private readonly memory: Memory) {
    this.behind = new SetDraft(memory.behind);
    this.examinedAll = memory.examinedAll;
    this.turnsOver = new SetDraft(memory.turnsOver);
    this.waiting = new MapDraft(memory.waiting);
  }

  /** Whether a halt is being watched under this key. */
  watching(key: string): boolean {
    return this.watches?.has(key) === true || this.memory.haltWatch.has(key);
  }

  /** The devices a halt watches under this key, listed by `list` the first time. */
  watch(key: string, list: () => Iterable<string>): SetDraft<string> {
    let watch = this.watches?.get(key);
    if (watch === undefined) {
      const held = this.memory.haltWatch.get(key);
      watch = new SetDraft(held ?? NOTHING);
      if (held === undefined) for (const id of list()) watch.add(id);
      (this.watches ??= new Map()).set(key, watch);
    }
    return watch;
  }

  /** Makes the memory what this draft is (once the decision's work is recorded). */
  applyTo(memory: Memory): void {
    this.behind.applyTo(memory.behind);
    memory.examinedAll = this.examinedAll;
    this.turnsOver.applyTo(memory.turnsOver);
    this.waiting.applyTo(memory.waiting);
    for (const [key, watch] of this.watches ?? NO_WATCHES) {
      const held = memory.haltWatch.get(key);
      if (held !== undefined) watch.applyTo(held);
      else memory.haltWatch.set(key, new Set(watch));
    }
  }
}
