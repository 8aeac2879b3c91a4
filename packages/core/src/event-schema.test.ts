import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { anyEvent, isoTime } from './testing/event-arbitraries.js';
import { checkEventSchema, isLowerUuid, validateEvent } from './validate.js';
import { compileSchema } from './schema-check.js';
import { EventIdSchema } from './envelope.js';
import { IsoTime, isIsoUtc } from './schema.js';
import { EventSchema } from './event-schema.js';
import { jsonSchemaText } from './json-schema.js';
import { Compile } from 'typebox/compile';

const accepts = (value: unknown) => {
  try {
    validateEvent(value);
    return true;
  } catch {
    return false;
  }
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** Every path to a value inside `value` (the value itself excluded). */
function pathsOf(value: unknown, prefix: readonly (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...prefix, k], ...pathsOf((value as Record<string | number, unknown>)[k], [...prefix, k])]);
}
/** A copy of `value` with the value at `path` replaced (or removed when `to` is undefined). */
function withAt(value: unknown, path: readonly (string | number)[], to: unknown): unknown {
  if (path.length === 0) return to;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const next = withAt(copy[head], rest, to);
  if (next === undefined && !Array.isArray(copy)) delete copy[head];
  // An own property even for "__proto__", as JSON.parse makes it.
  else Object.defineProperty(copy, head, { value: next, enumerable: true, writable: true, configurable: true });
  return copy;
}
const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A well-formed event, and one change to it: a value replaced by any JSON, a key removed, a key added. */
const changedEvent = fc
  .tuple(anyEvent, fc.nat(), fc.constantFrom('replace', 'remove', 'add', 'none'), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('extra', 'ring', 'patch', 'count', 'percent', '__proto__', 'version'))
  .map(([event, pick, change, json, key]) => {
    const paths = pathsOf(event);
    const path = paths[pick % paths.length]!;
    if (change === 'replace') return withAt(event, path, json as Json);
    if (change === 'remove') return withAt(event, path, undefined);
    if (change === 'add') {
      const parent = path.slice(0, -1);
      return withAt(event, [...parent, key], json as Json);
    }
    return event;
  });

describe('the event schema and the fast path agree', () => {
  it('every event the TypeScript types allow, the compiled schema and validateEvent accept (fast-check)', () => {
    fc.assert(
      fc.property(anyEvent, (event) => {
        expect(checkEventSchema(event)).toBe(true);
        expect(validateEvent(event)).toBe(event);
      }),
      { seed: 20261201, numRuns: 2000 },
    );
  });

  it('a value of another JSON type where the types say a string, a number or a boolean: both refuse (fast-check)', () => {
    fc.assert(
      fc.property(anyEvent, fc.nat(), fc.jsonValue({ maxDepth: 1 }), (event, pick, json) => {
        // Leaves the types pin down: not inside meta, whose values are anyone's.
        const leaves = pathsOf(event).filter((p) => p[0] !== 'meta' && ['string', 'number', 'boolean'].includes(jsonType(get(event, p))));
        fc.pre(leaves.length > 0);
        const path = leaves[pick % leaves.length]!;
        fc.pre(jsonType(json) !== jsonType(get(event, path)));
        const changed = withAt(event, path, json);
        expect(checkEventSchema(changed)).toBe(false);
        expect(accepts(changed)).toBe(false);
      }),
      { seed: 20261202, numRuns: 2000 },
    );
  });

  it('any change to an event: validateEvent (hand-written envelope) accepts exactly what the compiled schema accepts (fast-check)', () => {
    fc.assert(
      fc.property(changedEvent, (value) => {
        expect(accepts(value)).toBe(checkEventSchema(value));
      }),
      { seed: 20261203, numRuns: 5000 },
    );
  });

  it('the published JSON Schema, read back as plain JSON, accepts what the code accepts; it refuses nothing more (fast-check)', () => {
    // The refinements JSON Schema cannot say (ring names once each, meta's depth) are only in the code's check.
    const published = Compile(JSON.parse(jsonSchemaText(EventSchema, { title: 't', description: 'd' })) as object);
    fc.assert(
      fc.property(fc.oneof(anyEvent, changedEvent), (value) => {
        if (checkEventSchema(value)) expect(published.Check(value)).toBe(true);
        if (!published.Check(value)) expect(checkEventSchema(value)).toBe(false);
      }),
      { seed: 20261206, numRuns: 2000 },
    );
  });

  it('isIsoUtc is the compiled time schema, on times and near-times (fast-check)', () => {
    const time = compileSchema(IsoTime);
    const nearTime = fc.oneof(
      isoTime,
      fc.tuple(isoTime, fc.nat({ max: 23 }), fc.string({ maxLength: 3 })).map(([t, at, s]) => t.slice(0, at) + s + t.slice(at + s.length)),
      fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,10})?Z?$/),
      fc.string(),
    );
    fc.assert(
      fc.property(nearTime, (t) => {
        expect(isIsoUtc(t)).toBe(time.check(t));
      }),
      { seed: 20261204, numRuns: 5000 },
    );
  });

  it('isLowerUuid is the compiled id schema (fast-check)', () => {
    const id = compileSchema(EventIdSchema);
    const nearId = fc.oneof(fc.uuid(), fc.uuid().map((u) => u.toUpperCase()), fc.stringMatching(/^[0-9a-fA-F-]{34,38}$/), fc.string({ maxLength: 40 }));
    fc.assert(
      fc.property(nearId, (u) => {
        expect(isLowerUuid(u)).toBe(id.check(u));
      }),
      { seed: 20261205, numRuns: 5000 },
    );
  });
});

function get(value: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);
}
