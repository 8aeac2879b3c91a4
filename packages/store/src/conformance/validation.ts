/** Validation before anything is written: envelopes, data, stream names and the lifecycle of each kind of stream. */
import { beforeEach, describe, expect, it } from 'vitest';
import { deviceStream, InvalidEventError, InvalidIdError, ringStream, rolloutStream, sealStream, TransitionRefusedError } from '@hotpatch/core';
import { inBatch, type EventStore, type NewEvent } from '../index.js';
import { events, fresh, next, type Suite } from './fixtures.js';

export function describeValidation(suite: Suite): void {
  let store: EventStore;
  beforeEach(() => {
    store = suite.store;
  });

  describe('validation before anything is written', () => {
    it('an invalid event anywhere in a batch refuses the whole batch', async () => {
      const s = fresh('inv');
      const bad = { ...events.assessed(), data: { eligible: 'yes', reasons: [] } };
      const error = await store.appendToStream(s, [events.enrolled(), bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidEventError);
      expect(error).toMatchObject({ field: 'data.eligible', at: { stream: s, version: 2 } });
      expect(await store.readStream(s)).toEqual([]);
    });

    it('an event id that is no id (a NUL, a control character, not a UUID) is InvalidEventError naming the id, in a batch or not, nothing written', async () => {
      for (const id of ['id-\u0000-x', '\u0000', 'not-a-uuid', '0190\u0001']) {
        const s = fresh('badid');
        for (const attempt of [() => store.appendToStream(s, [events.enrolled('B1', id)]), () => inBatch(store, async () => void (await store.appendToStream(s, [events.enrolled('B1', id)])))]) {
          const error = await attempt().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidEventError);
          expect(error).toMatchObject({ field: 'id', at: { stream: s, version: 1 } });
        }
        // The second of a batch too: its first is not written either.
        const second = await store.appendToStream(s, [events.enrolled(), events.assessed(true, id)]).catch((e: unknown) => e);
        expect(second).toMatchObject({ field: 'id', at: { stream: s, version: 2 } });
        expect(await store.readStream(s)).toEqual([]);
      }
    });

    it('an unknown event type is refused', async () => {
      const error = await store.appendToStream(fresh('unk'), [{ ...events.enrolled(), type: 'DeviceExploded' }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidEventError);
      expect((error as InvalidEventError).field).toBe('type');
    });

    it('an event the lifecycle refuses in the stream’s state is refused, with the batch', async () => {
      const s = fresh('tr');
      await store.appendToStream(s, [events.enrolled(), events.assessed()]);
      const error = await store.appendToStream(s, [events.staged('P1', 'B1'), events.staged('P2', 'B1')]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransitionRefusedError);
      expect(error).toMatchObject({ state: 'staged', eventType: 'PatchStaged', at: { stream: s, version: 4 } });
      expect(await store.streamVersion(s)).toBe(2);
    });

    it('a ring’s stream is judged by the ring lifecycle: the service cannot lift the tenant’s pause, and device events do not belong there', async () => {
      const ring = ringStream(`conformance-${next()}`);
      const at = '2026-03-02T10:00:00.000Z';
      await store.appendToStream(ring, [{ type: 'RingPaused', time: at, data: { by: 'tenant', reason: 'change freeze' } }], { expectedVersion: 'no_stream' });
      const refused = await store.appendToStream(ring, [{ type: 'RingResumed', time: at, data: { by: 'service' } }]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TransitionRefusedError);
      expect(refused).toMatchObject({ state: 'paused', eventType: 'RingResumed', at: { stream: ring, version: 2 } });
      const misplaced = await store.appendToStream(ring, [events.enrolled()]).catch((e: unknown) => e);
      expect(misplaced).toBeInstanceOf(InvalidEventError);
      expect((misplaced as InvalidEventError).field).toBe('type');
      expect(await store.readState(ring)).toMatchObject({ version: 1, state: { value: 'paused', context: { holds: [{ by: 'tenant', reason: 'change freeze' }] } } });
      await store.appendToStream(ring, [{ type: 'RingResumed', time: at, data: { by: 'tenant' } }], { expectedVersion: 1 });
      expect(await store.readState(ring)).toMatchObject({ version: 2, state: { value: 'open', context: { holds: [] } } });
    });

    it('a seal stream takes LogSealed, well formed, never covering less than the seal before it', async () => {
      const seal = sealStream(`conformance-${next()}`);
      const sealed = (sequence: number, position: number, signature = `${'A'.repeat(86)}==`) => ({
        type: 'LogSealed',
        time: '2026-03-02T10:00:00.000Z',
        data: { sequence, position, streams: 1, events: position, digest: 'a'.repeat(64), algorithm: 'ed25519', keyId: 'b'.repeat(64), signature },
      });
      if (suite.sut.tenantView) {
        // A tenant's view holds the tenant's streams only: the service's seals are the log's.
        expect(await store.appendToStream(seal, [sealed(1, 10)]).catch((e: unknown) => e)).toBeInstanceOf(InvalidEventError);
        expect(await store.readState(seal)).toMatchObject({ version: 0 });
        return;
      }
      await store.appendToStream(seal, [sealed(1, 10)], { expectedVersion: 'no_stream' });
      const less = await store.appendToStream(seal, [sealed(2, 9)]).catch((e: unknown) => e);
      expect(less).toBeInstanceOf(TransitionRefusedError);
      expect((less as Error).message).toMatch(/coversNoLess/);
      const malformed = await store.appendToStream(seal, [sealed(2, 12, 'not a signature')]).catch((e: unknown) => e);
      expect(malformed).toBeInstanceOf(InvalidEventError);
      expect((malformed as InvalidEventError).field).toBe('data.signature');
      await store.appendToStream(seal, [sealed(2, 12)], { expectedVersion: 1 });
      expect(await store.readState(seal)).toMatchObject({ version: 2, state: { value: 'sealed', context: { seals: 2, position: 12 } } });
    });

    it('a stream id that breaks the id rule is refused before anything is written, naming the id and the rule', async () => {
      const tag = next();
      const bad: Array<[string, string]> = [
        [`a\ud800b-${tag}`, 'holds a lone surrogate (U+D800) at character 2'],
        [`a\udfffb-${tag}`, 'holds a lone surrogate (U+DFFF) at character 2'],
        [`a\u0000b-${tag}`, 'holds a control character (U+0000) at character 2'],
        [`line\nbreak-${tag}`, 'holds a control character (U+000A) at character 5'],
        [`c1\u0085-${tag}`, 'holds a C1 control character (U+0085) at character 3'],
        [`evil\u202egnp-${tag}`, 'holds a bidirectional control (U+202E) at character 5'],
        ['x'.repeat(201), 'is 201 characters long'],
        ['x'.repeat(1 << 20), 'is 1048576 characters long'],
      ];
      const ringPause = { type: 'RingPaused', time: '2026-03-02T10:00:00.000Z', data: { by: 'tenant', reason: 'change freeze' } };
      const plan = { type: 'RolloutPaused', time: '2026-03-02T10:00:00.000Z', data: { by: 'tenant', reason: 'x' } };
      for (const [id, problem] of bad) {
        for (const [kind, stream, event] of [['device', deviceStream(id), events.enrolled()], ['ring', ringStream(id), ringPause], ['rollout', rolloutStream(id), plan]] as const) {
          const error = await store.appendToStream(stream, [event]).catch((e: unknown) => e);
          expect(error, `${kind} ${JSON.stringify(id.slice(0, 20))}`).toBeInstanceOf(InvalidIdError);
          expect(error).toMatchObject({ code: 'INVALID_ID', kind, id, problem });
          expect((error as Error).message).toContain('an id is a non-empty string of at most 200 characters');
        }
      }
      // Nothing of them was written (the ones the store could have taken for another stream included).
      expect((await store.readAll()).filter((e) => e.stream.endsWith(`-${tag}`) || e.stream.includes('xxxxxxxxxx'))).toEqual([]);
    });

    it('an id that keeps the rule is stored and read back as it is: any other Unicode, 200 characters, surrogate pairs', async () => {
      const tag = next();
      for (const id of [`gerät-ü-${tag}`, `😀-${tag}-${'😀'.repeat(190)}`, `${tag}-`.padEnd(200, 'y'), `tab-free id with spaces ${tag}`]) {
        const [written] = (await store.appendToStream(deviceStream(id), [events.enrolled()])).events;
        expect(written!.stream).toBe(deviceStream(id));
        expect((await store.readStream(deviceStream(id))).map((e) => e.stream)).toEqual([deviceStream(id)]);
      }
    });

    it('data or meta JSON cannot write (a BigInt, a circular value, nesting past 32 levels): InvalidEventError naming the path, nothing written', async () => {
      const s = fresh('json');
      const circular: Record<string, unknown> = { by: 'test' };
      circular.self = circular;
      let deep: Record<string, unknown> = {};
      for (let i = 0; i < 40; i++) deep = { deep };
      const cases: Array<[NewEvent, string, RegExp]> = [
        [{ ...events.enrolled(), meta: { count: 1n } }, 'meta.count', /a BigInt \(1n\) cannot be written as JSON/],
        [{ ...events.enrolled(), meta: { trace: [1, { at: 2n }] } }, 'meta.trace[1].at', /BigInt/],
        [{ ...events.enrolled(), meta: circular }, expect.stringMatching(/^meta(\.self)+$/) as unknown as string, /nested deeper than 32 levels \(or circular\)/],
        [{ ...events.enrolled(), meta: deep }, expect.stringMatching(/^meta(\.deep)+$/) as unknown as string, /nested deeper than 32 levels/],
        [{ ...events.enrolled(), data: { ...(events.enrolled().data as object), extra: 10n } }, 'data.extra', /BigInt/],
      ];
      for (const [event, field, problem] of cases) {
        const error = await store.appendToStream(s, [event]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidEventError);
        expect(error).toMatchObject({ field, at: { stream: s, version: 1 } });
        expect((error as InvalidEventError).problem).toMatch(problem);
      }
      expect(await store.readStream(s)).toEqual([]);
      // 32 levels are fine, as verify reads them.
      let ok: Record<string, unknown> = {};
      for (let i = 0; i < 31; i++) ok = { ok };
      await store.appendToStream(s, [{ ...events.enrolled(), meta: ok }]);
      expect(await store.streamVersion(s)).toBe(1);
    });

    it('data JSON would write otherwise than it was checked (a toJSON method): InvalidEventError naming the path, nothing written', async () => {
      const s = fresh('tojson');
      const data = events.enrolled().data as Record<string, unknown>;
      // Checked as a whole enrolment, written as what toJSON returns: the log would hold data its lifecycle never saw.
      const cases: Array<[NewEvent, string]> = [
        [{ ...events.enrolled(), data: { ...data, toJSON: () => ({ edition: 'X' }) } }, 'data'],
      ];
      for (const [event, field] of cases) {
        const error = await store.appendToStream(s, [event]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidEventError);
        expect(error).toMatchObject({ field, at: { stream: s, version: 1 } });
        expect((error as InvalidEventError).problem).toMatch(/toJSON/);
      }
      expect(await store.readStream(s)).toEqual([]);
    });

    it('a stream that is not a device stream is refused', async () => {
      await expect(store.appendToStream('nope', [events.enrolled()])).rejects.toBeInstanceOf(InvalidEventError);
    });
  });
}
