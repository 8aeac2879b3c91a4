/**
 * A ring's devices as the policy model sees them: each in one local state (waiting, applying since tick τ, applied at
 * tick τ with its health outstanding, verified, failed, set aside). Two representations of the same thing:
 *
 * - `CountingPopulation`: how many devices are in each local state (the counting abstraction: devices of one ring
 *   in the same local state are interchangeable, so which ones they are is not part of the state);
 * - `PlainPopulation`: each device's own local state, by device index (the plain exploration).
 *
 * The model moves devices through either one alike; a test shows both give the same worst cases on small rings.
 */

/**
 * A device's local state: `w` waiting (not instructed), `a<τ>` applying (instructed at tick τ), `p<τ>` applied (its
 * apply reported at tick τ, health outstanding), `v` verified, `fr` failed after the release ran on it (health
 * failed), `fn` failed before it ran (apply failed, timed out), `sr` set aside (silent) after it ran or while
 * applying (it may have run: no count tells the two apart, so neither does the state).
 */
export type Local = string;

export const applying = (tick: number): Local => `a${tick}`;
export const applied = (tick: number): Local => `p${tick}`;
/** Applied, its report in the interval before tick τ but stamped with the instant of the tick before (`q<τ>`). */
export const appliedEarly = (tick: number): Local => `q${tick}`;
/** The tick of an in-flight local state (`a<τ>`, `p<τ>`, `q<τ>`), or undefined for a settled or waiting one. */
export function inFlightTick(local: Local): number | undefined {
  const c = local.charCodeAt(0);
  return c === 97 /* a */ || c === 112 /* p */ || c === 113 /* q */ ? Number(local.slice(1)) : undefined;
}
export const isApplying = (local: Local) => local.charCodeAt(0) === 97;
export const isApplied = (local: Local) => local.charCodeAt(0) === 112 || local.charCodeAt(0) === 113;
export const isAppliedEarly = (local: Local) => local.charCodeAt(0) === 113;
/** The tick an in-flight device's last event is stamped with: its agent's silence counts from it. */
export const lastEventTick = (local: Local): number | undefined => (isAppliedEarly(local) ? inFlightTick(local)! - 1 : inFlightTick(local));
/**
 * Whether a device in `local` is one the release may have run on without verifying healthy: failed its health check,
 * set aside (silent after its apply, or while applying: it may have applied it, and nothing takes a set-aside device
 * back), summarised as such, or in flight (at a halt: applying, free to apply after it).
 */
export const unhealthy = (local: Local) => local === 'fr' || local === 'sr' || local === 'bad' || isApplying(local) || isApplied(local);

/**
 * How far a ring's devices have gone: a device counts 0 waiting, 1 applying, 2 applied, 3 once it has an outcome.
 * Every report moves a device forward, so it adds at least one.
 */
export function progress(pop: Population): number {
  let sum = 0;
  for (const [local, n] of pop.entries()) sum += n * (local === 'w' ? 0 : isApplying(local) ? 1 : isApplied(local) ? 2 : 3);
  return sum;
}

export interface Population {
  /** The local states present, with how many devices each. */
  entries(): ReadonlyArray<readonly [Local, number]>;
  count(local: Local): number;
  /**
   * The distinct ways to move one device out of `from`: one for the counting abstraction (the devices are
   * interchangeable), one per device for the plain exploration. Each gives the device moved (its index, or -1).
   */
  choices(from: Local): readonly number[];
  /** `n` devices moved from `from` to `to` (the first `n` by index in the plain exploration; `device` names one). */
  move(from: Local, to: Local, n: number, device?: number): Population;
  /** The population as text: equal populations, equal keys. */
  readonly key: string;
}

/**
 * A ring whose gate passed, as what is left of it that matters: its devices never change again, and nothing the
 * orchestrator does next depends on them; only how many the release ran on unhealthy (`bad`) counts.
 */
export function settled(pop: Population): Population {
  let bad = 0;
  let all = 0;
  for (const [local, n] of pop.entries()) {
    all += n;
    if (unhealthy(local)) bad += n;
  }
  return CountingPopulation.of(all).move('w', 'ok', all - bad).move('w', 'bad', bad);
}

function sortedEntries(map: ReadonlyMap<Local, number>): Array<[Local, number]> {
  return [...map].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const ONE_WAY: readonly number[] = [-1];
const NO_WAY: readonly number[] = [];

/** How many devices are in each local state: the local states present, in order, with their counts. */
export class CountingPopulation implements Population {
  private text: string | undefined;
  private constructor(private readonly sorted: ReadonlyArray<readonly [Local, number]>) {}
  static of(size: number): CountingPopulation {
    return new CountingPopulation(size > 0 ? [['w', size]] : []);
  }
  get key(): string {
    if (this.text === undefined) {
      let text = '';
      for (const [l, n] of this.sorted) text += text === '' ? `${l}:${n}` : `,${l}:${n}`;
      this.text = text;
    }
    return this.text;
  }
  entries() {
    return this.sorted;
  }
  count(local: Local) {
    for (const [l, n] of this.sorted) if (l === local) return n;
    return 0;
  }
  choices(from: Local) {
    return this.count(from) > 0 ? ONE_WAY : NO_WAY;
  }
  move(from: Local, to: Local, n: number): CountingPopulation {
    const have = this.count(from);
    if (n > have) throw new Error(`cannot move ${n} devices from ${from}: ${have} there`);
    const next: Array<readonly [Local, number]> = [];
    let placed = false;
    for (const [l, c] of this.sorted) {
      if (!placed && n > 0 && to < l) {
        next.push([to, n]);
        placed = true;
      }
      const m = c + (l === to ? ((placed = true), n) : 0) - (l === from ? n : 0);
      if (m > 0) next.push([l, m]);
    }
    if (!placed && n > 0) next.push([to, n]);
    return new CountingPopulation(next);
  }
}

/** Each device's local state, by index: the plain, per-device exploration. */
export class PlainPopulation implements Population {
  readonly key: string;
  private constructor(private readonly locals: readonly Local[]) {
    this.key = locals.join(',');
  }
  static of(size: number): PlainPopulation {
    return new PlainPopulation(Array.from({ length: size }, () => 'w'));
  }
  entries() {
    const map = new Map<Local, number>();
    for (const l of this.locals) map.set(l, (map.get(l) ?? 0) + 1);
    return sortedEntries(map);
  }
  count(local: Local) {
    let n = 0;
    for (const l of this.locals) if (l === local) n++;
    return n;
  }
  choices(from: Local) {
    const out: number[] = [];
    this.locals.forEach((l, i) => l === from && out.push(i));
    return out;
  }
  move(from: Local, to: Local, n: number, device?: number): PlainPopulation {
    const next = this.locals.slice();
    if (device !== undefined && device >= 0) {
      if (next[device] !== from || n !== 1) throw new Error(`device ${device} is not in ${from}`);
      next[device] = to;
      return new PlainPopulation(next);
    }
    let moved = 0;
    for (let i = 0; i < next.length && moved < n; i++) if (next[i] === from) (next[i] = to), moved++;
    if (moved < n) throw new Error(`cannot move ${n} devices from ${from}: ${moved} there`);
    return new PlainPopulation(next);
  }
  /** Which device is in which local state (for the counterexample's device ids). */
  local(device: number): Local {
    return this.locals[device]!;
  }
}
