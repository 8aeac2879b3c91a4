import { describe, expect, it } from 'vitest';
import { applyTimedOut, applyTimeoutReason, isApplyTimeout, parseApplyTimeout } from './apply-timeout.js';

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

describe('the apply-timeout rule', () => {
  const policy = { applyTimeoutMinutes: 60 };
  it('given an apply started at 17:00, it is timed out from 18:00 on, not a moment before', () => {
    const applying = { applyingSince: '2026-02-10T17:00:00.000Z' };
    expect(applyTimedOut(applying, '2026-02-10T17:59:59.999Z', policy)).toBe(false);
    expect(applyTimedOut(applying, '2026-02-10T18:00:00.000Z', policy)).toBe(true);
  });

  it('given a device not applying, it never is', () => {
    expect(applyTimedOut({ applyingSince: null }, '2030-01-01T00:00:00.000Z', policy)).toBe(false);
  });
});
