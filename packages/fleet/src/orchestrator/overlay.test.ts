/** The drafts against the anchor they stand in for: a copy of the base Set or Map, changed the same way. */
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MapDraft, SetDraft } from './overlay.js';

const key = fc.integer({ min: 0, max: 9 });
const setOps = fc.array(fc.tuple(fc.constantFrom('add', 'delete'), key), { maxLength: 40 });
const mapOps = fc.array(fc.tuple(fc.constantFrom('set', 'delete'), key, fc.integer()), { maxLength: 40 });

describe('SetDraft', () => {
  test.prop([fc.uniqueArray(key), setOps], { seed: 20261207 })('reads as a copy of its base changed the same way, in the same order, and applies to the base as it reads', (base, ops) => {
    const original = new Set(base);
    const copy = new Set(base);
    const draft = new SetDraft(original);
    for (const [op, k] of ops) {
      expect(op === 'add' ? (draft.add(k), undefined) : draft.delete(k)).toEqual(op === 'add' ? (copy.add(k), undefined) : copy.delete(k));
      expect([...draft]).toEqual([...copy]);
      expect(draft.size).toBe(copy.size);
      for (let i = 0; i < 10; i++) expect(draft.has(i)).toBe(copy.has(i));
    }
    expect([...original]).toEqual(base); // untouched until applied
    draft.applyTo(original);
    expect([...original]).toEqual([...copy]);
  });

  it('given a base member deleted and added again, it goes last', () => {
    const draft = new SetDraft(new Set(['a', 'b', 'c']));
    draft.delete('a');
    draft.add('a');
    expect([...draft]).toEqual(['b', 'c', 'a']);
  });
});

describe('MapDraft', () => {
  test.prop([fc.uniqueArray(key), mapOps], { seed: 20261207 })('reads as a copy of its base changed the same way, in the same order, and applies to the base as it reads', (keys, ops) => {
    const base = keys.map((k) => [k, -k] as [number, number]);
    const original = new Map(base);
    const copy = new Map(base);
    const draft = new MapDraft(original);
    for (const [op, k, v] of ops) {
      if (op === 'set') {
        draft.set(k, v);
        copy.set(k, v);
      } else expect(draft.delete(k)).toBe(copy.delete(k));
      expect([...draft]).toEqual([...copy]);
      expect(draft.size).toBe(copy.size);
      for (let i = 0; i < 10; i++) {
        expect(draft.has(i)).toBe(copy.has(i));
        expect(draft.get(i)).toBe(copy.get(i));
      }
    }
    expect([...original]).toEqual(base);
    draft.applyTo(original);
    expect([...original]).toEqual([...copy]);
  });
});
