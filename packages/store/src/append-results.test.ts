import { describe, expect, it } from 'vitest';
import { alreadyAppended, nothingAppended } from './append-results.js';
import type { RecordedEvent } from './types.js';

const event = (version: number, position: number) => ({ id: `id-${version}`, stream: 'device/d', version, type: 'T', time: 't', data: {}, position, hash: `h${version}` }) as RecordedEvent;

describe('append results', () => {
  it('an append of no events writes nothing and leaves the stream at its version', () => {
    expect(nothingAppended('device/d', 4)).toEqual({ stream: 'device/d', nextExpectedVersion: 4, positions: [], versions: [], written: false, events: [] });
  });

  it('a retry gives the recorded events back, their versions and positions, and writes nothing', () => {
    const recorded = [event(2, 17), event(3, 40)];
    expect(alreadyAppended('device/d', recorded)).toEqual({ stream: 'device/d', nextExpectedVersion: 3, positions: [17, 40], versions: [2, 3], written: false, events: recorded });
  });
});
