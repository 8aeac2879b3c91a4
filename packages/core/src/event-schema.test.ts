import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { anyEvent, isoTime } from './testing/event-arbitraries.js';
import { changed, retyped } from './testing/mutations.js';
import { checkEventSchema, isLowerUuid, isSha256Hex, validateEvent } from './validate.js';
import { compileSchema } from './schema-check.js';
import { EventIdSchema, HASH_PATTERN } from './envelope.js';
import { IsoTime, isIsoUtc } from './schema.js';
import { dataAcceptOf, dataCheckOf, EventSchema } from './event-schema.js';
import { streamKindOf } from './streams.js';
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

/** A well-formed event, and one change to it: a value replaced by any JSON, a key removed, a key added. */
const changedEvent = changed(anyEvent, ['extra', 'ring', 'patch', 'count', 'percent', '__proto__', 'version']);

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
    // Not inside meta, whose values are anyone's.
    fc.assert(
      fc.property(retyped(anyEvent, (path) => path[0] === 'meta'), (value) => {
        expect(checkEventSchema(value)).toBe(false);
        expect(accepts(value)).toBe(false);
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

  it("dataAcceptOf (the quick yes, then the compiled check) answers as the compiled data check, on events and changed events (fast-check)", () => {
    let compared = 0;
    fc.assert(
      fc.property(fc.oneof(anyEvent, changedEvent), (value) => {
        const { stream, type, data } = value as { stream?: unknown; type?: unknown; data?: unknown };
        const kind = typeof stream === 'string' ? streamKindOf(stream) : undefined;
        if (kind === undefined || typeof type !== 'string') return;
        const check = dataCheckOf(kind, type);
        expect(dataAcceptOf(kind, type) === undefined).toBe(check === undefined);
        if (check === undefined) return;
        compared++;
        expect(dataAcceptOf(kind, type)!(data)).toBe(check.check(data));
      }),
      { seed: 20261207, numRuns: 5000 },
    );
    expect(compared).toBeGreaterThan(4000);
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

  it('isSha256Hex is the hash pattern, on hashes and near-hashes (fast-check)', () => {
    const pattern = new RegExp(HASH_PATTERN);
    const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
    const nearHash = fc.oneof(
      hex,
      hex.map((h) => h.toUpperCase()),
      fc.tuple(hex, fc.nat({ max: 63 }), fc.string({ minLength: 1, maxLength: 2 })).map(([h, at, s]) => h.slice(0, at) + s + h.slice(at + s.length)),
      fc.tuple(hex, fc.constantFrom('', '\n', 'a', '0')).map(([h, s]) => h + s),
      hex.map((h) => h.slice(1)),
      fc.string({ maxLength: 70 }),
    );
    fc.assert(
      fc.property(nearHash, (h) => {
        expect(isSha256Hex(h)).toBe(pattern.test(h));
      }),
      { seed: 20261208, numRuns: 5000 },
    );
  });
});
