/** Changes to a well-formed value, for property tests of a check: a leaf retyped, a value replaced, a key removed or added. Test-only. */
import fc from 'fast-check';

export type Path = readonly (string | number)[];

/** Every path to a value inside `value` (the value itself excluded). */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...prefix, k], ...pathsOf((value as Record<string | number, unknown>)[k], [...prefix, k])]);
}

export const valueAt = (value: unknown, path: Path): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);

/** A copy of `value` with the value at `path` replaced (removed when `to` is undefined). */
export function withAt(value: unknown, path: Path, to: unknown): unknown {
  if (path.length === 0) return to;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const next = withAt(copy[head], rest, to);
  if (next === undefined && !Array.isArray(copy)) delete copy[head];
  // An own property even for "__proto__", as JSON.parse makes it.
  else Object.defineProperty(copy, head, { value: next, enumerable: true, writable: true, configurable: true });
  return copy;
}

export const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * A value of `values` with one string, number or boolean (outside the paths `skip` keeps) replaced by JSON of another
 * type: what the value's TypeScript type does not allow. Values with no such leaf are filtered out.
 */
export function retyped<T>(values: fc.Arbitrary<T>, skip: (path: Path) => boolean = () => false): fc.Arbitrary<unknown> {
  return fc
    .tuple(values, fc.nat(), fc.jsonValue({ maxDepth: 1 }))
    .map(([value, pick, json]) => {
      const leaves = pathsOf(value).filter((p) => !skip(p) && ['string', 'number', 'boolean'].includes(jsonType(valueAt(value, p))));
      if (leaves.length === 0) return undefined;
      const path = leaves[pick % leaves.length]!;
      return jsonType(json) === jsonType(valueAt(value, path)) ? undefined : withAt(value, path, json);
    })
    .filter((v) => v !== undefined);
}

/** A value of `values` with one change: a value replaced by any JSON, a key removed, a key of `keys` added, or none. */
export function changed<T>(values: fc.Arbitrary<T>, keys: readonly string[]): fc.Arbitrary<unknown> {
  return fc.tuple(values, fc.nat(), fc.constantFrom('replace', 'remove', 'add', 'none'), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...keys)).map(([value, pick, change, json, key]) => {
    const paths = pathsOf(value);
    if (change === 'none' || paths.length === 0) return value;
    const path = paths[pick % paths.length]!;
    if (change === 'replace') return withAt(value, path, json);
    if (change === 'remove') return withAt(value, path, undefined);
    return withAt(value, [...path.slice(0, -1), key], json);
  });
}
