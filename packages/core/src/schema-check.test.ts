/** Given a schema and a value, when checked, then the first problem in one line naming its path. */
import { describe, expect, it } from 'vitest';
import Type, { type TSchema } from 'typebox';
import { compileSchema, joinPath, pathWithin, refine } from './schema-check.js';
import { expecting, IsoTime, NonEmptyString, oneOf, Share, StringList, WholeNumber } from './schema.js';

const given = (schema: TSchema) => ({
  when: (value: unknown) => {
    const check = compileSchema(schema);
    return {
      thenAccepted: () => {
        expect(check.check(value)).toBe(true);
        expect(check.problem(value)).toBeUndefined();
      },
      then: (path: string, message: string) => {
        expect(check.check(value)).toBe(false);
        expect(check.problem(value)).toEqual({ path, message });
      },
    };
  },
});

const Gate = Type.Object({ minVerifiedShare: Share, maxFailureRate: Share, minSoakHours: Type.Number({ minimum: 0 }) });
const Policy = Type.Object({
  rings: Type.Array(Type.Object({ name: NonEmptyString, gate: Gate, budget: Type.Union([Type.Object({ count: WholeNumber }), Type.Object({ percent: Type.Number({ minimum: 0, maximum: 100 }) })]) }), { minItems: 1 }),
  by: oneOf('service', 'tenant'),
  requires: Type.Optional(StringList),
  at: Type.Optional(IsoTime),
  timeout: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});
const ring = { name: 'pilot', gate: { minVerifiedShare: 0.9, maxFailureRate: 0.1, minSoakHours: 24 }, budget: { count: 1 } };

describe('compileSchema', () => {
  it('accepts a value of the shape, optional fields absent or present', () => {
    given(Policy).when({ rings: [ring], by: 'tenant' }).thenAccepted();
    given(Policy).when({ rings: [ring], by: 'tenant', requires: ['a'], at: '2026-01-13T09:00:00Z', extra: 1 }).thenAccepted();
  });

  it('names a nested field by its path, with what was expected and what came', () => {
    given(Policy)
      .when({ rings: [ring, { ...ring, gate: { ...ring.gate, maxFailureRate: 5 } }], by: 'tenant' })
      .then('rings[1].gate.maxFailureRate', 'expected a number from 0 to 1, got number 5');
  });

  it('names the first problem in the order the schema lists the fields, a missing one included', () => {
    given(Policy).when({ by: 'admin' }).then('rings', 'expected a non-empty array of objects {name, gate, budget}, got nothing');
    given(Policy).when({ rings: [], requires: [1] }).then('rings', 'expected a non-empty array of objects {name, gate, budget}, got an array');
    given(Policy).when({ rings: [ring, { name: '' }], by: 'x' }).then('rings[1].name', 'expected a non-empty string, got ""');
  });

  it('names a missing field', () => {
    given(Policy).when({ rings: [{ name: 'pilot', budget: { count: 1 } }], by: 'tenant' }).then('rings[0].gate', 'expected an object {minVerifiedShare, maxFailureRate, minSoakHours}, got nothing');
  });

  it('says what a union, an enum, an array, a time and a bound expect', () => {
    given(Policy).when({ rings: [{ ...ring, budget: { count: -1 } }], by: 'tenant' }).then('rings[0].budget', 'expected an object {count} or an object {percent}, got an object');
    given(Policy).when({ rings: [ring], by: 'admin' }).then('by', 'expected one of "service", "tenant", got "admin"');
    given(Policy).when({ rings: [], by: 'tenant' }).then('rings', 'expected a non-empty array of objects {name, gate, budget}, got an array');
    given(Policy).when({ rings: [ring], by: 'tenant', requires: ['a', ''] }).then('requires[1]', 'expected a non-empty string, got ""');
    given(Policy).when({ rings: [ring], by: 'tenant', at: '2026-02-30T00:00:00Z' }).then('at', 'expected an ISO-8601 UTC time like 2026-01-13T09:00:00.000Z, got "2026-02-30T00:00:00Z"');
    given(Policy).when({ rings: [ring], by: 'tenant', timeout: 0 }).then('timeout', 'expected a number > 0, got number 0');
  });

  it('says a length bound, and the length of what came (a long string is cut in a message)', () => {
    const Named = Type.Object({ name: Type.String({ minLength: 1, maxLength: 5 }), tags: Type.Array(Type.String({ maxLength: 2 }), { maxItems: 2 }) });
    given(Named).when({ name: 'x'.repeat(300), tags: [] }).then('name', 'expected a non-empty string of at most 5 characters, got 300 characters');
    given(Named).when({ name: '', tags: [] }).then('name', 'expected a non-empty string of at most 5 characters, got ""');
    given(Named).when({ name: '😀😀😀😀😀', tags: [] }).thenAccepted();
    given(Named).when({ name: '😀😀😀😀😀😀', tags: [] }).then('name', 'expected a non-empty string of at most 5 characters, got 6 characters');
    given(Named).when({ name: 'a', tags: ['a', 'b', 'c'] }).then('tags', 'expected an array of at most 2 items of strings of at most 2 characters, got 3 items');
    given(Named).when({ name: 'a', tags: ['abc'] }).then('tags[0]', 'expected a string of at most 2 characters, got 3 characters');
  });

  it('names the value itself with an empty path, and an unknown key where keys are closed', () => {
    given(Policy).when(null).then('', 'expected an object {rings, by, requires, at, timeout}, got null');
    given(Type.Object({ a: Type.String() }, { additionalProperties: false })).when({ a: 'x', b: 1 }).then('b', 'unknown field; known: a');
  });

  it('uses the noun a schema was given, and a refinement’s own words', () => {
    given(expecting('a ring name', Type.String({ pattern: '^[a-z]+$' }))).when('Pilot').then('', 'expected a ring name, got "Pilot"');
    given(Type.Refine(Type.Array(Type.String()), (a) => new Set(a).size === a.length, () => 'names repeat')).when(['a', 'a']).then('', 'names repeat');
    const once = refine(Type.Array(Type.String()), (a) => {
      const i = a.findIndex((x, j) => a.indexOf(x) !== j);
      return i < 0 ? undefined : { path: `[${i}]`, message: `${a[i]} appears twice` };
    });
    given(Type.Object({ names: once })).when({ names: ['a', 'b', 'a'] }).then('names[2]', 'a appears twice');
    given(Type.Object({ names: once })).when({ names: ['a', 'b'] }).thenAccepted();
  });
});

describe('paths', () => {
  it('are written the JavaScript way', () => {
    expect(joinPath('', 'rings')).toBe('rings');
    expect(joinPath('rings', 0)).toBe('rings[0]');
    expect(joinPath('rings[0]', 'odd key')).toBe('rings[0]["odd key"]');
    expect(pathWithin('data', '')).toBe('data');
    expect(pathWithin('data', 'rings[0]')).toBe('data.rings[0]');
    expect(pathWithin('data', '["a b"]')).toBe('data["a b"]');
    expect(pathWithin('', 'rings')).toBe('rings');
  });
});

describe('a tagged union (objects told apart by one constant field)', () => {
  const A = Type.Object({ kind: Type.Literal('a'), n: Type.Number() }, { additionalProperties: false });
  const B = Type.Object({ kind: Type.Literal('b'), s: Type.String() }, { additionalProperties: false });
  const check = compileSchema(Type.Union([A, B]));

  it('tells a value of no known tag the tags there are, and one of a known tag its own member’s problem', () => {
    for (const kind of ['c', '__proto__', 42, undefined]) {
      expect(check.problem({ kind, n: 1 })).toMatchObject({ path: 'kind', message: expect.stringMatching(/^expected one of "a", "b", got /) });
    }
    expect(check.problem({ kind: 'b', n: 1 })?.path).not.toBe('kind');
    expect(check.problem({ kind: 'b', s: 'x' })).toBeUndefined();
    // Not an object: as before, the compiled check's words.
    expect(check.problem(7)).toBeDefined();
  });
});
