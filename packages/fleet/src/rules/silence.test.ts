import { describe, expect, it } from 'vitest';
import { agentSilent, silenceReason } from './silence.js';

const policy = { silenceHours: 48 };
const heard = { lastEventAt: '2026-02-10T17:00:00.000Z' };

describe('the silence rule', () => {
  it('given an agent last heard of at 17:00, it is silent from 48 h later on, not a moment before', () => {
    expect(agentSilent(heard, '2026-02-12T16:59:59.999Z', policy)).toBe(false);
    expect(agentSilent(heard, '2026-02-12T17:00:00.000Z', policy)).toBe(true);
    expect(agentSilent(heard, '2026-03-01T00:00:00.000Z', policy)).toBe(true);
  });

  it('names the policy’s hours in the reason a device is set aside for', () => {
    expect(silenceReason(policy)).toBe('agent silent for 48 h');
  });
});
