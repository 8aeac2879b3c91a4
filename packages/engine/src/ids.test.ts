import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import { COMMAND_EVENT_NAMESPACE, nameBasedIds } from './ids.js';

describe('nameBasedIds', () => {
  it('gives the uuid package’s v5 ids for any name and namespace (fast-check)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.string({ unit: 'grapheme', maxLength: 60 }), (namespace, name) => {
        expect(nameBasedIds(namespace)(name)).toBe(uuidv5(name, namespace));
      }),
      { seed: 20261125, numRuns: 500 },
    );
    expect(nameBasedIds(COMMAND_EVENT_NAMESPACE)('cmd#1')).toBe(uuidv5('cmd#1', COMMAND_EVENT_NAMESPACE));
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => nameBasedIds('not-a-uuid')).toThrow(TypeError);
  });
});
