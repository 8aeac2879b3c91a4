/**
 * Values for property tests of a check against the schema it checks: values of the schema's shape (read from the
 * schema), and values near it (a field removed, retyped or added, strings at their bounds, a prototype, a name that
 * is not enumerable, an array). Test-only.
 */
import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { pathsOf, valueAt, withAt } from './mutations.js';

type Schema = Record<string, unknown>;

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** Strings near a string schema's bounds and rules: ASCII and otherwise, astral characters, controls, lone surrogates. */
function text(s: Schema): fc.Arbitrary<string> {
  const min = (s.minLength as number | undefined) ?? 0;
  const max = Math.min((s.maxLength as number | undefined) ?? 12, 220);
  if (s.pattern === UUID) return fc.oneof(fc.uuid(), fc.uuid().map((u) => u.toUpperCase()), fc.constant('not-a-uuid'));
  const lengths = { minLength: Math.max(0, min - 1), maxLength: max + 1 };
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ ...lengths, unit: fc.constantFrom(...'abcXYZ019-_.: ') }) },
    fc.string({ ...lengths, unit: 'binary' }),
    fc.string({ ...lengths, unit: fc.constantFrom('a', '😀', '\u0000', '\u007f', '\u0085', '\u202e', '\ud800', '\udc00', 'é') }),
    fc.integer({ min: Math.max(0, min - 1), max: max + 1 }).map((n) => 'x'.repeat(n)),
    fc.integer({ min: Math.max(0, min - 1), max: max + 1 }).map((n) => '😀'.repeat(n)),
  );
}

/** Values of a schema's shape (mostly: strings are drawn near their bounds, so some are not). */
export function schemaValue(schema: TSchema): fc.Arbitrary<unknown> {
  const s = schema as unknown as Schema;
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  switch (s.type) {
    case 'string':
      return text(s);
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(schemaValue(s.items as TSchema), { maxLength: 3 });
    case 'object': {
      if (s.properties === undefined) return fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      const properties = s.properties as Record<string, TSchema>;
      const required = (s.required as string[] | undefined) ?? [];
      const record = Object.fromEntries(Object.entries(properties).map(([k, sub]) => [k, schemaValue(sub)]));
      return fc.record(record, { requiredKeys: required });
    }
    default:
      return fc.anything({ maxDepth: 1 });
  }
}

/** A value made into one the compiled check reads otherwise than a JSON object: what a hostile caller may pass. */
function hostile(value: unknown, how: number, key: string, extra: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  switch (how % 8) {
    case 0:
      // Its fields inherited, not its own.
      return Object.create(value);
    case 1:
      return Object.assign(Object.create(null), value);
    case 2:
      return Object.defineProperty({ ...value }, key, { value: extra, enumerable: false });
    case 3:
      return Object.values(value);
    case 4:
      return Object.assign(Object.create({ [key]: extra }), value);
    case 5:
      return { ...value, [key]: undefined };
    case 6:
      return Object.assign([], value);
    default:
      return { ...value, [Symbol('s')]: extra };
  }
}

/** Values of the schema's shape, and each changed in one way (see the module's comment). */
export function valuesNear(schema: TSchema): fc.Arbitrary<unknown> {
  const valid = schemaValue(schema);
  const key = fc.oneof(fc.constantFrom(...Object.keys(((schema as unknown as Schema).properties as object | undefined) ?? {}), 'extra', '__proto__', 'constructor'), fc.string({ maxLength: 4 }));
  const changed = fc.tuple(valid, fc.nat(), fc.anything({ maxDepth: 2 }), fc.nat(), key).map(([value, pick, other, how, name]) => {
    const paths = pathsOf(value);
    switch (how % 4) {
      case 0:
        return paths.length === 0 ? other : withAt(value, paths[pick % paths.length]!, other);
      case 1:
        return paths.length === 0 ? value : withAt(value, paths[pick % paths.length]!, undefined);
      case 2: {
        const at = paths.filter((p) => typeof valueAt(value, p) === 'object');
        return withAt(value, [...(at.length === 0 ? [] : at[pick % at.length]!), name], other);
      }
      default:
        return hostile(value, pick, name, other);
    }
  });
  return fc.oneof({ weight: 2, arbitrary: valid }, { weight: 3, arbitrary: changed }, fc.anything({ maxDepth: 2 }));
}
