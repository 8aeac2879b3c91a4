/** Our checker and xstate/graph's adjacency map explore the same machine with the same events: same states. */
import { describe, expect, it } from 'vitest';
import { getAdjacencyMap } from 'xstate/graph';
import { deviceMachine } from '@hotpatch/core';
import { check, deviceCheckModel, scenarioEvents, stateFingerprint } from './index.js';
import { SMALL_SCENARIO } from './testing/scenarios.js';

const small = SMALL_SCENARIO;

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
