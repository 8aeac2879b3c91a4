import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIsoUtc } from './schema.js';
import { InvalidEventError } from './errors.js';
import { MAX_META_DEPTH, unwritableJson } from './envelope.js';
import { validateEvent, validateDeviceEventData } from './validate.js';
import { ROLLOUT_EVENT_DATA, ROLLOUT_EVENT_TYPES } from './rollout/events.js';
import { DEVICE_EVENT_DATA, DEVICE_EVENT_TYPES } from './device/events.js';
import { RING_EVENT_DATA, RING_EVENT_TYPES } from './ring/events.js';

const good = {
  id: '0193f2a0-0000-7000-8000-000000000001',
  stream: 'device/dev-1',
  version: 1,
  type: 'PatchStaged',
  time: '2026-02-10T17:00:00.000Z',
  data: { patch: 'HP-2026-02', baseline: 'B-2026-01', requires: [], liveRevert: true },
};

function problem(value: unknown): InvalidEventError {
  try {
    validateEvent(value, { line: 12 });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return error as InvalidEventError;
  }
  throw new Error('accepted');
}

describe('validateEvent', () => {
  it('accepts a well-formed event and returns it', () => {
    expect(validateEvent(good)).toBe(good);
    expect(validateEvent({ ...good, meta: { by: 'agent' }, position: 3, hash: 'a'.repeat(64) })).toBeTruthy();
  });

  it('names the line, the stream, the version and the field', () => {
    const e = problem({ ...good, data: { ...good.data, liveRevert: 'yes' } });
    expect(e.field).toBe('data.liveRevert');
    expect(e.at).toEqual({ line: 12, stream: 'device/dev-1', version: 1 });
    expect(e.message).toBe('line 12 device/dev-1@1: data.liveRevert: expected true or false, got "yes"');
  });

  it.each([
    ['a missing field', { ...good, data: { patch: 'x', baseline: 'b', liveRevert: true } }, 'data.requires'],
    ['a mistyped array item', { ...good, data: { ...good.data, requires: [1] } }, 'data.requires[0]'],
    ['an unknown type', { ...good, type: 'PatchExploded' }, 'type'],
    ['a bad id', { ...good, id: 'abc' }, 'id'],
    ['a version of 0', { ...good, version: 0 }, 'version'],
    ['a fractional version', { ...good, version: 1.5 }, 'version'],
    ['a local time', { ...good, time: '2026-02-10 17:00' }, 'time'],
    ['an impossible date', { ...good, time: '2026-02-30T25:00:00Z' }, 'time'],
    ['a stream of no known kind', { ...good, stream: 'rollout' }, 'stream'],
    ['an unknown envelope field', { ...good, extra: 1 }, 'extra'],
    ['meta that is not an object', { ...good, meta: [] }, 'meta'],
    ['a bad hash', { ...good, hash: 'xyz' }, 'hash'],
    ['a bad arch', { ...good, type: 'DeviceEnrolled', data: { edition: 'E', build: '1', arch: 'ia64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: true, ring: 'r', baseline: 'b' } }, 'data.arch'],
  ])('refuses %s', (_what, value, field) => {
    expect(problem(value).field).toBe(field);
  });

  it('refuses what is not an object', () => {
    expect(problem([1]).message).toMatch(/expected a JSON object, got an array/);
    expect(problem(null).message).toMatch(/got null/);
  });

  it('has a schema for every event type', () => {
    expect(Object.keys(DEVICE_EVENT_DATA).sort()).toEqual([...DEVICE_EVENT_TYPES].sort());
    expect(() => validateDeviceEventData('DeviceRetired', {}, {})).not.toThrow();
    expect(() => validateDeviceEventData('RebootRequired', { reason: 'baseline' }, {})).not.toThrow();
    expect(() => validateDeviceEventData('RebootRequired', { reason: 'baseline', baseline: 7 }, {})).toThrow(/data.baseline/);
    expect(Object.keys(ROLLOUT_EVENT_DATA).sort()).toEqual([...ROLLOUT_EVENT_TYPES].sort());
    expect(Object.keys(RING_EVENT_DATA).sort()).toEqual([...RING_EVENT_TYPES].sort());
  });

  it('knows the kinds of stream, and validates each with its own events', () => {
    const rollout = { ...good, stream: 'rollout/r1', type: 'RolloutPaused', data: { by: 'tenant', reason: 'change freeze' } };
    expect(validateEvent(rollout)).toBe(rollout);
    expect(problem({ ...rollout, data: { by: 'admin', reason: '' } }).message).toMatch(/data\.by: expected one of "service", "tenant", got "admin"/);
    expect(problem({ ...good, stream: 'rollout/r1' }).message).toMatch(/unknown rollout event type "PatchStaged"/);
    expect(problem({ ...rollout, stream: 'device/d1' }).message).toMatch(/unknown device event type "RolloutPaused"/);
    expect(problem({ ...good, stream: 'fleet/x' }).message).toMatch(/stream: expected "device\/<id>" or "rollout\/<id>"/);
  });

  it('checks a rollout plan’s rings', () => {
    const ring = { name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.9, maxFailureRate: 0.1, minSoakHours: 24 }, deadlineDays: 7 };
    const plan = (rings: unknown[]) => ({ ...good, stream: 'rollout/r1', type: 'RolloutPlanned', data: { release: 'HP', releaseKind: 'hotpatch', releasedAt: good.time, liveRevert: true, outOfBand: false, rings } });
    expect(() => validateEvent(plan([ring, { ...ring, name: 'broad', budget: { percent: 5 } }]))).not.toThrow();
    expect(problem(plan([])).message).toMatch(/expected a non-empty array of rings/);
    expect(problem(plan([ring, ring])).message).toMatch(/data\.rings\[1\]\.name: pilot appears twice$/);
    expect(problem(plan([{ ...ring, budget: { percent: 150 } }])).message).toMatch(/data\.rings\[0\]\.budget: expected \{"count": n\} or \{"percent": p\} with 0 ≤ p ≤ 100, got an object/);
    expect(problem(plan([{ ...ring, gate: { ...ring.gate, maxFailureRate: 2 } }])).message).toMatch(/data\.rings\[0\]\.gate\.maxFailureRate: expected a number from 0 to 1, got number 2$/);
  });
});

describe('isIsoUtc', () => {
  it('takes real UTC instants and refuses the rest', () => {
    for (const t of ['2026-01-13T09:00:00Z', '2026-01-13T09:00:00.000Z', '2024-02-29T23:59:59.123456789Z', '2000-02-29T00:00:00Z', '2026-12-31T23:59:59.5Z']) expect(isIsoUtc(t), t).toBe(true);
    for (const t of [
      '2026-02-29T00:00:00Z', // not a leap year
      '1900-02-29T00:00:00Z', // nor is 1900
      '2026-04-31T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2026-13-10T00:00:00Z',
      '2026-01-00T00:00:00Z',
      '2026-01-13T24:00:00Z',
      '2026-01-13T09:60:00Z',
      '2026-01-13T09:00:60Z',
      '2026-01-13T09:00:00.Z',
      '2026-01-13T09:00:00.1234567890Z',
      '2026-01-13T09:00:00',
      '2026-01-13T09:00:00+01:00',
      '2026-01-13 09:00:00Z',
      '2026-1-13T09:00:00Z',
      '２026-01-13T09:00:00Z',
      '',
    ]) expect(isIsoUtc(t), t).toBe(false);
    expect(isIsoUtc(20260113)).toBe(false);
  });

  it('agrees with the calendar for any date and time of day (fast-check)', () => {
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.option(fc.integer({ min: 0, max: 999 })), (y, mo, d, h, mi, s, ms) => {
        const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${ms === null ? '' : `.${pad(ms, 3)}`}Z`;
        // The reference: the calendar's own answer, whether these fields name an instant that exists as written.
        const date = new Date(0);
        date.setUTCFullYear(y, mo - 1, d);
        date.setUTCHours(h, mi, s);
        const exists = mo >= 1 && mo <= 12 && h <= 23 && mi <= 59 && s <= 59 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
        expect(isIsoUtc(text)).toBe(exists);
      }),
      { seed: 20261125, numRuns: 2000 },
    );
  });
});

describe('unwritableJson', () => {
  it('names where a value cannot be written as JSON, from the path given', () => {
    const deep: Record<string, unknown> = {};
    deep.self = deep;
    expect(unwritableJson({ a: [1, { b: 2n }] }, MAX_META_DEPTH, 'data')).toEqual({ path: 'data.a[1].b', problem: expect.stringMatching(/BigInt \(2n\)/) as unknown as string });
    expect(unwritableJson({ 'a b': { ok: 1n } }, MAX_META_DEPTH, 'meta')?.path).toBe('meta["a b"].ok');
    expect(unwritableJson([[3n]], MAX_META_DEPTH)?.path).toBe('[0][0]');
    expect(unwritableJson({ x: 1n }, MAX_META_DEPTH)?.path).toBe('x');
    expect(unwritableJson(deep, 3, 'meta')).toEqual({ path: 'meta.self.self.self', problem: `nested deeper than ${MAX_META_DEPTH} levels (or circular)` });
    expect(unwritableJson({ a: [1, 'two', null, { b: true }] }, MAX_META_DEPTH, 'data')).toBeUndefined();
  });

  it('names, in a checked value (an event\'s data), an object JSON would write as its toJSON returns', () => {
    expect(unwritableJson({ a: [1, { at: new Date(0) }] }, MAX_META_DEPTH, 'data', true)).toEqual({ path: 'data.a[1].at', problem: expect.stringMatching(/toJSON/) as unknown as string });
    expect(unwritableJson({ toJSON: () => ({}) }, MAX_META_DEPTH, 'data', true)?.path).toBe('data');
    // Elsewhere (meta: no schema) what toJSON returns is what is written and hashed, as it is read back.
    expect(unwritableJson({ at: new Date(0) }, MAX_META_DEPTH, 'meta')).toBeUndefined();
  });
});
