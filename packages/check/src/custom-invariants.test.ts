/**
 * Your own invariants in a scenario: `never` proven where the device cannot reach the state, violated with a
 * shortest path whose timeline replays to it where it can, and, on random small scenarios, violated exactly when
 * xstate/graph's own exploration reaches the state (the simpler formulation, by independent code).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { getAdjacencyMap } from 'xstate/graph';
import { deviceMachine } from '@hotpatch/core';
import { readTimeline } from '@hotpatch/store';
import { foldTimeline } from '@hotpatch/replay';
import { check, checkDeviceInvariants, deviceCheckModel, DEVICE_MACHINE_STATES, InvariantError, loadInvariants, pathToTimeline, scenarioEvents, timelineText, validateInvariantsFile, validateScenario, type Scenario } from './index.js';
import { SMALL_SCENARIO } from './testing/scenarios.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-invariants-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const small = SMALL_SCENARIO;

describe('a scenario’s own invariants', () => {
  it('proves never retired when the scenario never retires the device, and lists it among the invariants', () => {
    const scenario = validateScenario({ ...small, retirement: false, invariants: [{ kind: 'never', state: 'retired' }] });
    const model = deviceCheckModel(scenario);
    const r = check(model, { continueOnViolation: true });
    expect(r.stats.complete).toBe(true);
    expect(r.violations).toEqual([]);
    expect(model.stateInvariants.filter((i) => i.custom).map((i) => [i.name, i.description])).toEqual([['never-retired', 'No device retired, ever.']]);
  });

  it('finds the shortest path to a state it names, and its timeline replays to that state', async () => {
    const scenario = validateScenario({ ...small, device: 'dev', invariants: [{ kind: 'never', state: 'needsReboot', name: 'noReboot' }] });
    const r = check(deviceCheckModel(scenario));
    expect(r.violations.map((v) => [v.invariant, v.message, v.path.length])).toEqual([['noReboot', 'the device is needsReboot', 2]]);
    const file = join(dir, 'noReboot.jsonl');
    await writeFile(file, timelineText(pathToTimeline(r.violations[0]!.path, { device: 'dev', name: 'small/noReboot' })));
    const timeline = await readTimeline(file);
    expect(timeline.problems).toEqual([]);
    const replayed = foldTimeline({ events: timeline.events, lines: timeline.lines }, { collectProblems: true });
    expect(replayed.problems).toEqual([]);
    expect(replayed.streams.get('device/dev')!.state.value).toBe('needsReboot');
  });

  it('takes an invariants file’s invariants beside the scenario’s, refusing what a scenario cannot check', async () => {
    const file = join(dir, 'inv.json');
    await writeFile(file, JSON.stringify({ invariants: [{ kind: 'never', state: 'failed' }] }));
    const extra = await loadInvariants(file);
    expect(() => checkDeviceInvariants(extra, file, [])).not.toThrow();
    expect(() => checkDeviceInvariants(extra, file, [{ kind: 'never', state: 'failed' }])).toThrow(`${file}: invariants[0]: never-failed: the name of another invariant`);
    expect(check(deviceCheckModel(small, undefined, extra)).violations.map((v) => v.invariant)).toEqual(['never-failed']);
    const refuse = (value: unknown) => {
      try {
        checkDeviceInvariants(validateInvariantsFile(value, 'f.json'), 'f.json', []);
      } catch (error) {
        expect(error).toBeInstanceOf(InvariantError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refuse({ invariants: [{ kind: 'never', state: 'applyed' }] })).toBe(`f.json: invariants[0].state: applyed is not a state of the device machine (${DEVICE_MACHINE_STATES.join(', ')})`);
    expect(refuse({ invariants: [{ kind: 'leavesWithin', state: 'applied', hours: 2 }] })).toBe('f.json: invariants[0].kind: leavesWithin applies to policy checks only: a scenario has no clock');
    expect(refuse({ invariants: [{ kind: 'atMost', state: 'applied', count: -2 }] })).toBe('f.json: invariants[0].count: expected a whole number ≥ 0, got number -2');
    expect(refuse({ invariants: [{ kind: 'nowhere', state: 'applied' }] })).toBe('f.json: invariants[0].kind: expected one of "atMost", "never", "leavesWithin", got "nowhere"');
    expect(refuse({ invariant: [] })).toBe('f.json: invariants: expected an array of invariants, got nothing');
    expect(refuse([])).toBe('f.json: expected an object {invariants}, got an array');
  });

  it('never(S) is violated exactly when xstate/graph reaches S, on random small scenarios (fast-check)', () => {
    const scenario = fc.record({
      reboots: fc.subarray([{ reason: 'baseline', baseline: 'B2' }, { reason: 'not-live-revertible' }, { reason: 'out-of-band' }]),
      liveRevert: fc.boolean(),
      eligibilityChanges: fc.boolean(),
      retirement: fc.boolean(),
      hotpatches: fc.integer({ min: 1, max: 2 }),
    });
    fc.assert(
      fc.property(scenario, fc.constantFrom(...DEVICE_MACHINE_STATES), (w, state) => {
        const s: Scenario = {
          ...small,
          hotpatches: small.hotpatches.slice(0, w.hotpatches).map((h) => ({ ...h, liveRevert: h.liveRevert || w.liveRevert })),
          reboots: w.reboots,
          eligibilityChanges: w.eligibilityChanges,
          retirement: w.retirement,
          invariants: [{ kind: 'never', state }],
        };
        const r = check(deviceCheckModel(validateScenario(s)), { continueOnViolation: true });
        const reached = new Set(Object.values(getAdjacencyMap(deviceMachine, { events: scenarioEvents(s) })).map((e) => (e.state as { value: string }).value));
        expect(r.stats.complete).toBe(true);
        expect(r.violations.some((v) => v.invariant === `never-${state}`)).toBe(reached.has(state));
      }),
      { seed: 2424, numRuns: 80 },
    );
  });
});
