import { describe, expect, it } from 'vitest';
import { rolloutChanges, type RingView, type RolloutView } from './rollout-view.js';

const ring = (name: string, over: Partial<RingView> = {}): RingView => ({ name, size: 10, budget: 1, started: '2026-02-10T17:00:00.000Z', inFlight: 0, succeeded: 0, failed: 0, setAside: 0, withdrawn: 0, gatePassed: false, ...over });
const view = (over: Partial<RolloutView> = {}): RolloutView => ({
  rollout: 'HP-1',
  state: 'rolling',
  release: 'HP-1',
  ring: 'pilot',
  rings: [ring('pilot'), ring('broad', { started: null, size: null, budget: null })],
  pausedBy: [],
  haltReason: null,
  halt: null,
  version: 3,
  time: '2026-02-10T17:00:00.000Z',
  ...over,
});

describe('rolloutChanges', () => {
  it('says what an event changed, in the words a person reads', () => {
    const before = view();
    expect(rolloutChanges(before, view({ rings: [ring('pilot', { inFlight: 1 }), before.rings[1]!] }))).toEqual(['pilot: in flight 0→1']);
    expect(rolloutChanges(before, view({ rings: [ring('pilot', { failed: 1, setAside: 2 }), before.rings[1]!] }))).toEqual(['pilot: failed 0→1, set aside 0→2 (budget 1)']);
    expect(rolloutChanges(before, view({ rings: [ring('pilot', { gatePassed: true }), ring('broad', { size: 90, budget: 9 })] }))).toEqual([
      'pilot: gate passed',
      'broad started: 90 devices, budget 9',
    ]);
    expect(rolloutChanges(before, view({ pausedBy: ['tenant', 'service'] }))).toEqual(['paused by tenant and service']);
    expect(rolloutChanges(view({ pausedBy: ['tenant'] }), before)).toEqual(['no longer paused']);
    expect(rolloutChanges(before, view({ haltReason: 'stopped by the service' }))).toEqual(['halted: stopped by the service']);
    // A halt moves the devices in flight in its ring to withdrawn.
    expect(rolloutChanges(view({ rings: [ring('pilot', { inFlight: 5, failed: 1 }), before.rings[1]!] }), view({ rings: [ring('pilot', { failed: 2, withdrawn: 4 }), before.rings[1]!] }))).toEqual([
      'pilot: in flight 5→0, failed 1→2, withdrawn 0→4 (budget 1)',
    ]);
    expect(rolloutChanges(before, view())).toEqual([]);
    expect(rolloutChanges(null, view({ rings: [] }))).toEqual(['release HP-1']);
  });
});
