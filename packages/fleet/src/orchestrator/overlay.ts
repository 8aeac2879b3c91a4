/** A Set or Map as a decision changes it, over a base it must not touch: reads as a changed copy, costs only its changes. */

/** What a decision reads of a set. */
export interface SetView<T> extends Iterable<T> {
  readonly size: number;
  has(value: T): boolean;
}

/** What a decision reads of a map. */
export interface MapView<K, V> extends Iterable<[K, V]> {
  readonly size: number;
  has(key: K): boolean;
  get(key: K): V | undefined;
}

export class SetDraft<T> implements SetView<T> {
  /** Base members deleted (or deleted and added again, to go last); made on the first change, as `added`. */
  private hidden: Set<T> | undefined;
  private added: Set<T> | undefined;

  constructor(private readonly base: ReadonlySet<T>) {}

  get size(): number {
    return this.base.size - (this.hidden?.size ?? 0) + (this.added?.size ?? 0);
  }

  has(value: T): boolean {
    return this.added?.has(value) === true || (this.base.has(value) && this.hidden?.has(value) !== true);
  }

  add(value: T): this {
    if (this.has(value)) return this;
    (this.added ??= new Set()).add(value);
    return this;
  }

  delete(value: T): boolean {
    const had = this.has(value);
    this.added?.delete(value);
    if (this.base.has(value)) (this.hidden ??= new Set()).add(value);
    return had;
  }

  [Symbol.iterator](): Iterator<T> {
    // Unchanged, it reads as its base, at the base's speed.
    return this.hidden === undefined && this.added === undefined ? this.base[Symbol.iterator]() : this.changed();
  }

  private *changed(): Generator<T> {
    for (const value of this.base) if (this.hidden?.has(value) !== true) yield value;
    if (this.added !== undefined) yield* this.added;
  }

  /** Makes `target` (the base itself, or a set equal to it) what this draft is. */
  applyTo(target: Set<T>): void {
    if (this.hidden !== undefined) for (const value of this.hidden) target.delete(value);
    if (this.added !== undefined) for (const value of this.added) target.add(value);
  }
}

export class MapDraft<K, V> implements MapView<K, V> {
  /** Base keys deleted (or deleted and set again, to go last); made on the first change, as the others. */
  private hidden: Set<K> | undefined;
  /** Base keys given another value, in their place. */
  private replaced: Map<K, V> | undefined;
  private added: Map<K, V> | undefined;

  constructor(private readonly base: ReadonlyMap<K, V>) {}

  get size(): number {
    return this.base.size - (this.hidden?.size ?? 0) + (this.added?.size ?? 0);
  }

  has(key: K): boolean {
    return this.added?.has(key) === true || (this.base.has(key) && this.hidden?.has(key) !== true);
  }

  get(key: K): V | undefined {
    if (this.added?.has(key)) return this.added.get(key);
    if (this.hidden?.has(key)) return undefined;
    return this.replaced?.has(key) ? this.replaced.get(key) : this.base.get(key);
  }

  set(key: K, value: V): this {
    if (this.added?.has(key) !== true && this.base.has(key) && this.hidden?.has(key) !== true) (this.replaced ??= new Map()).set(key, value);
    else (this.added ??= new Map()).set(key, value);
    return this;
  }

  delete(key: K): boolean {
    const had = this.has(key);
    this.added?.delete(key);
    this.replaced?.delete(key);
    if (this.base.has(key)) (this.hidden ??= new Set()).add(key);
    return had;
  }

  [Symbol.iterator](): Iterator<[K, V]> {
    return this.hidden === undefined && this.replaced === undefined && this.added === undefined ? this.base[Symbol.iterator]() : this.changed();
  }

  private *changed(): Generator<[K, V]> {
    for (const [key, value] of this.base) {
      if (this.hidden?.has(key)) continue;
      yield [key, this.replaced?.has(key) ? this.replaced.get(key)! : value];
    }
    if (this.added !== undefined) yield* this.added;
  }

  /** Makes `target` (the base itself, or a map equal to it) what this draft is. */
  applyTo(target: Map<K, V>): void {
    if (this.hidden !== undefined) for (const key of this.hidden) target.delete(key);
    if (this.replaced !== undefined) for (const [key, value] of this.replaced) target.set(key, value);
    if (this.added !== undefined) for (const [key, value] of this.added) target.set(key, value);
  }
}
