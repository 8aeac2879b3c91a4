/** Given/when/then specifications of the rollout and ring commands: a known stream state, a command, events or a refusal. */
import { describe, expect, it } from 'vitest';
import { CommandRefusedError, ringLifecycle, rolloutLifecycle, TransitionRefusedError, type RingEventBody, type RingState, type RolloutEventBody, type RolloutState } from '@hotpatch/core';
import { decideCommand, streamOf, type RingCommand, type RolloutCommand } from './commands.js';

const planned: RolloutEventBody = {
  type: 'RolloutPlanned',
  data: {
    release: 'HP-2026-02',
    releaseKind: 'hotpatch',
    releasedAt: '2026-02-10T17:00:00.000Z',
    liveRevert: true,
    outOfBand: false,
    rings: [{ name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 24 }, deadlineDays: 5 }],
  },
};

const givenRollout = (...events: RolloutEventBody[]) => ({
  when: (event: RolloutEventBody) => {
    const state = events.reduce((s, e) => rolloutLifecycle.evolve(s, e) as RolloutState, rolloutLifecycle.initial as RolloutState);
    const command: RolloutCommand = { rollout: 'HP-2026-02', event };
    const decided = () => decideCommand({ state, version: events.length }, command);
    return {
      then: (value: string) => expect(decided()).toMatchObject({ events: [event], state: { value } }),
      thenRefuses: (pattern: RegExp) => {
        const error = (() => {
          try {
            decided();
          } catch (e) {
            return e;
          }
        })();
        expect(error).toBeInstanceOf(CommandRefusedError);
        expect((error as CommandRefusedError).refusal).toBeInstanceOf(TransitionRefusedError);
        expect((error as Error).message).toMatch(pattern);
      },
    };
  },
});

describe('rollout and ring commands', () => {
  it('name their streams', () => {
    expect(streamOf({ rollout: 'HP-2026-02', event: planned })).toBe('rollout/HP-2026-02');
    expect(streamOf({ ring: 'broad', event: { type: 'RingPaused', data: { by: 'tenant', reason: 'freeze' } } })).toBe('ring/broad');
  });

  it('plan a rollout, then start its first ring', () => {
    givenRollout().when(planned).then('betweenRings');
    givenRollout(planned).when({ type: 'RingStarted', data: { ring: 'pilot', at: '2026-02-10T17:00:00.000Z', devices: 3 } }).then('rolling');
  });

  it('refuse what the rollout lifecycle refuses, located as the store locates it', () => {
    givenRollout(planned).when(planned).thenRefuses(/^RolloutPlanned on rollout\/HP-2026-02 refused: RolloutPlanned refused in state 'betweenRings'/);
    givenRollout(planned)
      .when({ type: 'RolloutResumed', data: { by: 'service' } })
      .thenRefuses(/RolloutResumed on rollout\/HP-2026-02 refused/);
    const error = (() => {
      try {
        decideCommand({ state: ringLifecycle.initial as RingState, version: 0 }, { ring: 'broad', event: { type: 'RingResumed', data: { by: 'service' } } } satisfies RingCommand);
      } catch (e) {
        return e as CommandRefusedError;
      }
    })();
    expect(error?.refusal?.message).toMatch(/^ring\/broad@1: RingResumed refused in state 'open'/);
  });

  it('a ring paused by the tenant is not opened by the service', () => {
    const paused: RingEventBody = { type: 'RingPaused', data: { by: 'tenant', reason: 'freeze' } };
    const state = ringLifecycle.evolve(ringLifecycle.initial, paused) as RingState;
    expect(() => decideCommand({ state, version: 1 }, { ring: 'broad', event: { type: 'RingResumed', data: { by: 'service' } } })).toThrow(CommandRefusedError);
    expect(decideCommand({ state, version: 1 }, { ring: 'broad', event: { type: 'RingResumed', data: { by: 'tenant' } } }).state).toMatchObject({ value: 'open' });
  });
});
