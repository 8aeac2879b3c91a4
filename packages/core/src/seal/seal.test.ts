import { describe, expect, it } from 'vitest';
import { TransitionRefusedError } from '../errors.js';
import { fromStreamName, sealStream } from '../stream-name.js';
import { lifecycleFor, streamKindOf } from '../streams.js';
import { validateEvent } from '../validate.js';
import type { SealEventBody, SealState } from './events.js';
import { sealLifecycle } from './lifecycle.js';

const seal = (position: number, sequence = 1): SealEventBody => ({
  type: 'LogSealed',
  data: { sequence, position, streams: 3, events: position, digest: 'a'.repeat(64), algorithm: 'ed25519', keyId: 'b'.repeat(64), signature: `${'A'.repeat(86)}==` },
});
const fold = (...events: SealEventBody[]) => events.reduce<SealState>((s, e) => sealLifecycle.evolve(s, e) as SealState, sealLifecycle.initial as SealState);

describe('the seal lifecycle', () => {
  it('is unsealed with no events, then counts its seals and keeps the last position and key', () => {
    expect(fold().value).toBe('unsealed');
    expect(fold(seal(10), seal(10, 2), seal(25, 3))).toEqual({ value: 'sealed', context: { seals: 3, position: 25, keyId: 'b'.repeat(64) } });
  });

  it('refuses a seal that covers less of the log than the seal before it, naming the rule', () => {
    let refusal: unknown;
    try {
      sealLifecycle.evolve(fold(seal(10)), seal(9, 2), { stream: 'seal/log', version: 2 });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(TransitionRefusedError);
    expect((refusal as Error).message).toMatch(/coversNoLess/);
  });

  it('is a stream kind of its own: seal/<name>, its events validated at the boundary', () => {
    expect(sealStream('log')).toBe('seal/log');
    expect(fromStreamName('seal/log')).toEqual({ kind: 'seal', id: 'log' });
    expect(streamKindOf('seal/log')?.name).toBe('seal');
    expect(lifecycleFor('seal/log')).toBe(sealLifecycle);
    const event = { id: '0190b6c0-0000-7000-8000-000000000001', stream: 'seal/log', version: 1, type: 'LogSealed', time: '2026-03-02T10:00:00.000Z', ...seal(4) };
    expect(validateEvent(event).type).toBe('LogSealed');
    expect(() => validateEvent({ ...event, data: { ...event.data, signature: 'not base64' } })).toThrow(/signature/);
    expect(() => validateEvent({ ...event, data: { ...event.data, algorithm: 'rsa' } })).toThrow(/algorithm/);
    expect(() => validateEvent({ ...event, data: { ...event.data, digest: 'A'.repeat(64) } })).toThrow(/digest/);
    expect(() => validateEvent({ ...event, type: 'RingPaused' })).toThrow(/unknown seal event type/);
  });
});
