/** The id rule: what it refuses and why, said the same by the hand-written check and the published schema. */
import { describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { compileSchema } from './schema-check.js';
import { describe as describeValue } from './schema.js';
import { checkId, idProblem, InvalidIdError, MAX_ID_LENGTH, quoteId, StreamIdSchema } from './stream-id.js';

const schema = compileSchema(StreamIdSchema);

describe('the id rule', () => {
  it('refuses lone surrogates, control and bidirectional characters, the empty id and ids over 200 characters, naming what and where', () => {
    expect(idProblem('a\ud800b')).toBe('holds a lone surrogate (U+D800) at character 2');
    expect(idProblem('😀a\udfff')).toBe('holds a lone surrogate (U+DFFF) at character 3');
    expect(idProblem('a\u0000b')).toBe('holds a control character (U+0000) at character 2');
    expect(idProblem('tab\t')).toBe('holds a control character (U+0009) at character 4');
    expect(idProblem('del\u007f')).toBe('holds a control character (U+007F) at character 4');
    expect(idProblem('c1\u009b')).toBe('holds a C1 control character (U+009B) at character 3');
    for (const bidi of ['\u061c', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069']) expect(idProblem(`x${bidi}`)).toMatch(/^holds a bidirectional control \(U\+[0-9A-F]{4}\) at character 2$/);
    expect(idProblem('')).toBe('is empty');
    expect(idProblem('x'.repeat(MAX_ID_LENGTH + 1))).toBe('is 201 characters long');
    expect(idProblem(42)).toBe('is not a string (number)');
    expect(idProblem(null)).toBe('is not a string (null)');
  });

  it('accepts any other text up to 200 characters, counted as Unicode code points (a surrogate pair is one)', () => {
    for (const id of ['d1', 'laptop-0042', 'gerät ü', 'x'.repeat(200), '😀'.repeat(200), 'HP-2026-02', 'ring with spaces', '中文']) expect(idProblem(id)).toBeUndefined();
    expect(idProblem('😀'.repeat(201))).toBe('is 201 characters long');
  });

  it('InvalidIdError names the kind, the id (escaped, cut when long) and the rule', () => {
    const error = (() => {
      try {
        checkId('device', 'evil\u202egnp\u0000');
      } catch (e) {
        return e;
      }
    })() as InvalidIdError;
    expect(error).toBeInstanceOf(InvalidIdError);
    expect(error).toMatchObject({ code: 'INVALID_ID', kind: 'device', id: 'evil\u202egnp\u0000', problem: 'holds a bidirectional control (U+202E) at character 5' });
    expect(error.message).toBe(
      'device id "evil\\u202egnp\\u0000" holds a bidirectional control (U+202E) at character 5; an id is a non-empty string of at most 200 characters, none of them a control character (C0, DEL, C1), a Unicode bidirectional control or a lone surrogate',
    );
    expect(quoteId('x'.repeat(1 << 20))).toBe(`"${'x'.repeat(60)}…" (1048576 UTF-16 units)`);
    expect(() => checkId('ring', 'pilot')).not.toThrow();
    // A message that quotes a value escapes what a terminal would act on.
    expect(describeValue('a\u202eb\u0085')).toBe('"a\\u202eb\\u0085"');
  });

  test.prop([fc.oneof(fc.string({ unit: 'binary', maxLength: 260 }), fc.string({ unit: 'grapheme', maxLength: 220 }), fc.constantFrom('', 'a\ud800', '\udc00b', '\u202e', 'x'.repeat(200), 'x'.repeat(201)))], { numRuns: 2000, seed: 20261207 })(
    'the published schema (StreamIdSchema) accepts exactly what idProblem accepts',
    (id) => {
      expect(schema.check(id)).toBe(idProblem(id) === undefined);
    },
  );
});
