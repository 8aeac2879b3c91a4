/** What an embedder gets wrong when making or calling the engine: typed errors naming it, never a raw TypeError or RangeError. */
import { describe, expect, it } from 'vitest';
import { InvalidClockError, InvalidEventError, type DeviceCommand } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore } from '@hotpatch/store';
import { createEngine, type EngineOptions } from './engine.js';
import { InvalidEngineOptionsError } from './options.js';

const enrol: DeviceCommand = { type: 'EnrolDevice', device: 'd1', profile: eligibleProfile, ring: 'pilot', baseline: 'B1' };
const clock = () => new Date('2026-02-10T17:00:00.000Z');

describe('the engine’s options and clock', () => {
  it('maxAttempts 0, negative or fractional, a meta JSON cannot write, a store that is not one: InvalidEngineOptionsError at creation', () => {
    const store = createInMemoryEventStore();
    const refused = (options: object, path: string, message: RegExp) => {
      let thrown: unknown;
      try {
        createEngine({ store, clock, ...options } as EngineOptions);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(InvalidEngineOptionsError);
      expect(thrown).toMatchObject({ code: 'INVALID_ENGINE_OPTIONS', path });
      expect((thrown as Error).message).toMatch(message);
    };
    refused({ maxAttempts: 0 }, 'maxAttempts', /^engine options: maxAttempts: expected a whole number ≥ 1, got number 0$/);
    refused({ maxAttempts: -1 }, 'maxAttempts', /got number -1/);
    refused({ maxAttempts: 2.5 }, 'maxAttempts', /got number 2.5/);
    refused({ meta: { by: 'me', n: 1n } }, 'meta.n', /BigInt/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    refused({ meta: circular }, expect.stringMatching(/^meta(\.self)+$/) as unknown as string, /circular/);
    refused({ meta: 'me' }, 'meta', /expected an object, got "me"/);
    refused({ store: {} }, 'store', /an event store/);
    refused({ clock: new Date() }, 'clock', /expected a function, got an object/);
    expect(() => createEngine({ store, clock, maxAttempts: 1 })).not.toThrow();
  });

  it('a clock that gives an invalid Date, no Date or a year past 9999: InvalidClockError, nothing written', async () => {
    const store = createInMemoryEventStore();
    for (const [reading, said] of [
      [new Date(NaN), 'an invalid Date'],
      ['2026-02-10', '"2026-02-10"'],
      [new Date('+010000-01-01T00:00:00.000Z'), 'the Date +010000-01-01T00:00:00.000Z'],
    ] as const) {
      const engine = createEngine({ store, clock: () => reading as Date });
      const error = await engine.execute(enrol).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidClockError);
      expect(error).toMatchObject({ code: 'INVALID_CLOCK', clock: "the engine's clock", reading: said });
      expect(() => engine.decide(enrol, { state: undefined as never, version: 0 })).toThrow(InvalidClockError);
    }
    expect(await store.readAll()).toEqual([]);
  });

  it('a command’s own meta JSON cannot write: the store’s InvalidEventError naming its path, nothing written', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock });
    const error = await engine.execute(enrol, { meta: { trace: { id: 7n } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error).toMatchObject({ field: 'meta.trace.id' });
    expect(await store.readAll()).toEqual([]);
  });
});
