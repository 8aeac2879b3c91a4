import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, eventHash, GENESIS_HASH, logDigest } from './hash.js';

const event = { id: '0193f2a0-0000-7000-8000-000000000001', stream: 'device/d', version: 1, type: 'PatchApplied', time: '2026-01-01T00:00:00.000Z', data: { patch: 'P1' } };

describe('hash chain', () => {
  it('canonical JSON sorts keys at every level and ignores undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'é' }, u: undefined })).toBe('{"a":{"c":"é","d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('canonical JSON is the sorted-key text for any JSON value, whether or not its keys are in order already', () => {
    // The reference: keys sorted at every level, undefined properties dropped, undefined array items as null.
    const reference = (v: unknown): string => {
      if (v === null || typeof v !== 'object') return JSON.stringify(v);
      if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : reference(x))).join(',')}]`;
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(record[k])}`).join(',')}}`;
    };
    // Objects whose keys come in order and out of order, integer-like keys, undefined values and items.
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double(), fc.string(), fc.constantFrom('10', '9', 'a', 'é'), tie('list'), tie('object')),
      list: fc.array(fc.oneof(tie('any'), fc.constant(undefined)), { maxLength: 4 }),
      object: fc.dictionary(fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('1', '2', '10', 'a', 'b', '__proto__')), fc.oneof(tie('any'), fc.constant(undefined)), { maxKeys: 5 }),
    })).any;
    fc.assert(
      fc.property(value, fc.boolean(), (v, sortFirst) => {
        const input = sortFirst ? JSON.parse(reference(v)) : v;
        expect(canonicalJson(input)).toBe(reference(input));
        expect(canonicalJson(input, JSON.stringify(input))).toBe(reference(input));
      }),
      { seed: 20261126, numRuns: 2_000 },
    );
    // Not plain JSON: a Date has no keys of its own (as before the fast path), and a nested function is not skipped
    // by the fast path's JSON.stringify but handled by the sorted path.
    expect(canonicalJson({ a: new Date(0) })).toBe('{"a":{}}');
    expect(canonicalJson({ a: 1, b: { c: () => 1 } })).toBe(reference({ a: 1, b: { c: () => 1 } }));
  });

  it('is SHA-256 over prev and the canonical event, whatever the key order', () => {
    const h = eventHash(GENESIS_HASH, event);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(eventHash(GENESIS_HASH, { data: { patch: 'P1' }, time: event.time, type: event.type, version: 1, stream: event.stream, id: event.id })).toBe(h);
    expect(eventHash(GENESIS_HASH, { ...event, meta: undefined })).toBe(h);
  });

  it('changes when any hashed field or the previous hash changes', () => {
    const h = eventHash(GENESIS_HASH, event);
    for (const changed of [{ ...event, version: 2 }, { ...event, data: { patch: 'P2' } }, { ...event, time: '2026-01-01T00:00:00.001Z' }, { ...event, meta: {} }, { ...event, stream: 'device/e' }]) {
      expect(eventHash(GENESIS_HASH, changed)).not.toBe(h);
    }
    expect(eventHash('1'.repeat(64), event)).not.toBe(h);
  });

  it('writes the canonical event exactly as the generic canonical JSON would', async () => {
    const { canonicalEvent, canonicalJson } = await import('./hash.js');
    // The generic form canonicalEvent must equal: canonical JSON of the envelope's fields.
    const canonicalEventGeneric = (e: Parameters<typeof canonicalEvent>[0]) => canonicalJson({ id: e.id, stream: e.stream, version: e.version, type: e.type, time: e.time, data: e.data, meta: e.meta });
    const samples = [event, { ...event, meta: { z: [1, { b: undefined, a: 'é' }], a: null } }, { ...event, data: { reasons: ['x', 'y'], eligible: false, nested: { '"q"': 1 } } }];
    for (const e of samples) expect(canonicalEvent(e)).toBe(canonicalEventGeneric(e));
    // Whatever the strings of the envelope (quotes, backslashes, control characters, non-ASCII, lone surrogates):
    // the fast quoting writes what JSON.stringify writes.
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', 'a"b', 'é', '~', ' '));
    fc.assert(
      fc.property(text, text, text, text, fc.integer({ min: 1 }), (id, stream, type, time, version) => {
        const e = { ...event, id, stream, type, time, version };
        expect(canonicalEvent(e)).toBe(canonicalEventGeneric(e));
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('digests the heads independently of their order', () => {
    expect(logDigest([['b', 'x'], ['a', 'y']])).toBe(logDigest([['a', 'y'], ['b', 'x']]));
    expect(logDigest([['a', 'y']])).not.toBe(logDigest([['a', 'z']]));
  });
});

describe('machine fingerprint', async () => {
  const { lifecycleFingerprint, DEVICE_MACHINE_FINGERPRINT } = await import('./fingerprint.js');
  const { compileEvolve, deviceSetup, deviceMachine } = await import('@hotpatch/core');
  it('is stable for the same definition and changes with a guard’s code', () => {
    expect(lifecycleFingerprint(compileEvolve(deviceMachine) as never)).toBe(DEVICE_MACHINE_FINGERPRINT);
    const changed = deviceMachine.provide({ guards: { isPatchInFlight: () => true } });
    expect(lifecycleFingerprint(compileEvolve(changed) as never)).not.toBe(DEVICE_MACHINE_FINGERPRINT);
    expect(deviceSetup).toBeDefined();
  });
});
