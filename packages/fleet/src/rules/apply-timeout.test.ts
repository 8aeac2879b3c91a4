import { describe, expect, it } from 'vitest';
import { applyTimeoutReason, isApplyTimeout, parseApplyTimeout } from './apply-timeout.js';

describe('the apply-timeout reason', () => {
  it('is recorded as the text the logs hold, and read back as a timeout', () => {
    expect(applyTimeoutReason(60)).toBe('timed out after 60 min');
    expect(parseApplyTimeout(applyTimeoutReason(60))).toEqual({ kind: 'apply-timeout', afterMinutes: 60 });
    expect(parseApplyTimeout(applyTimeoutReason(7.5))).toEqual({ kind: 'apply-timeout', afterMinutes: 7.5 });
    expect(isApplyTimeout(applyTimeoutReason(90))).toBe(true);
  });

  it('tells an agent’s own failure from a timeout', () => {
    expect(parseApplyTimeout('transition stalled')).toBeUndefined();
    expect(isApplyTimeout('disk full')).toBe(false);
    // Any reason that begins as a timeout's is one, as logs have always been read.
    expect(isApplyTimeout('timed out')).toBe(true);
  });
});
