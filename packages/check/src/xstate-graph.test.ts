/** Our checker and xstate/graph's adjacency map explore the same machine with the same events: same states. */
import { describe, expect, it } from 'vitest';
import { getAdjacencyMap } from 'xstate/graph';
import { deviceMachine } from '@hotpatch/core';
import { check, deviceCheckModel, scenarioEvents, stateFingerprint, type Scenario } from './index.js';

const small: Scenario = {
  name: 'small',
  enrolledOn: 'B1',
  baselines: ['B1', 'B2'],
  hotpatches: [
    { id: 'H1', baseline: 'B1', liveRevert: true },
    { id: 'H2', baseline: 'B1', requires: ['H1'], liveRevert: false },
  ],
  reboots: [{ reason: 'baseline', baseline: 'B2' }],
};

describe('agreement with xstate/graph', () => {
  it('finds exactly the distinct states getAdjacencyMap finds', () => {
    const ours = check(deviceCheckModel(small));
    const adjacency = getAdjacencyMap(deviceMachine, { events: scenarioEvents(small) });
    const theirs = Object.values(adjacency).map((entry) => stateFingerprint(entry.state as never));
    expect(ours.stats.complete).toBe(true);
    expect(new Set(theirs).size).toBe(theirs.length);
    expect(ours.stats.distinctStates).toBe(theirs.length);
    expect(ours.stats.distinctStates).toBeGreaterThan(50);
  });
});
