import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { retyped } from '@hotpatch/core/testing';
import { DEFAULT_SCENARIO, DEVICE_MACHINE_STATES, ScenarioError, validateScenario, type Scenario } from './index.js';

const refusal = (value: unknown): ScenarioError => {
  try {
    validateScenario(value, 's.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return error as ScenarioError;
  }
  throw new Error('accepted');
};

describe('validateScenario', () => {
  it('takes the default scenario, read back from JSON', () => {
    expect(validateScenario(JSON.parse(JSON.stringify(DEFAULT_SCENARIO)))).toEqual(DEFAULT_SCENARIO);
  });

  it.each<[string, unknown, string, string]>([
    ['not an object', [], '', 'expected an object {name, description, device, enrolledOn, baselines, hotpatches, reboots, eligibilityChanges, retirement, invariants}, got an array'],
    ['no name', { ...DEFAULT_SCENARIO, name: '' }, 'name', 'expected a non-empty string, got ""'],
    ['no baselines', { ...DEFAULT_SCENARIO, baselines: [] }, 'baselines', 'expected a non-empty array of non-empty strings, got an array'],
    ['a mistyped liveRevert', { ...DEFAULT_SCENARIO, hotpatches: [{ id: 'H1', baseline: 'B1', liveRevert: 'no' }] }, 'hotpatches[0].liveRevert', 'expected true or false, got "no"'],
    ['a retirement that is not a boolean', { ...DEFAULT_SCENARIO, retirement: 'yes' }, 'retirement', 'expected true or false, got "yes"'],
    ['enrolled on no baseline of its own', { ...DEFAULT_SCENARIO, enrolledOn: 'B9' }, 'enrolledOn', 'B9 is not one of the baselines'],
    ['a hotpatch id twice', { ...DEFAULT_SCENARIO, hotpatches: [DEFAULT_SCENARIO.hotpatches[0], DEFAULT_SCENARIO.hotpatches[0]] }, 'hotpatches[1].id', 'H1 appears twice'],
    ['a hotpatch on another baseline', { ...DEFAULT_SCENARIO, hotpatches: [{ id: 'H1', baseline: 'B9', liveRevert: true }] }, 'hotpatches[0].baseline', 'B9 is not one of the baselines'],
    ['a requirement that is no hotpatch', { ...DEFAULT_SCENARIO, hotpatches: [{ id: 'H1', baseline: 'B1', requires: ['H9'], liveRevert: true }] }, 'hotpatches[0].requires', 'H9 is not a hotpatch of the scenario'],
    ['a misspelt field', { ...DEFAULT_SCENARIO, retire: false }, 'retire', 'unknown field; known: name, description, device, enrolledOn, baselines, hotpatches, reboots, eligibilityChanges, retirement, invariants'],
    ['a misspelt hotpatch field', { ...DEFAULT_SCENARIO, hotpatches: [{ id: 'H1', baseline: 'B1', liveRevert: true, require: ['H2'] }] }, 'hotpatches[0].require', 'unknown field; known: id, baseline, requires, liveRevert'],
    ['a reboot onto another baseline', { ...DEFAULT_SCENARIO, reboots: [{ reason: 'baseline', baseline: 'B9' }] }, 'reboots[0].baseline', 'B9 is not one of the baselines'],
    ['an invariant of an unknown kind', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'sometimes', state: 'applied' }] }, 'invariants[0].kind', 'expected one of "atMost", "never", "leavesWithin", got "sometimes"'],
    ['an invariant of an unknown state', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'never', state: 'applyed' }] }, 'invariants[0].state', `applyed is not a state of the device machine (${DEVICE_MACHINE_STATES.join(', ')})`],
    ['a negative count', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'never', state: 'failed' }, { kind: 'atMost', state: 'failed', count: -1 }] }, 'invariants[1].count', 'expected a whole number ≥ 0, got number -1'],
    ['a count in a one-device world', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'atMost', state: 'failed', count: 0 }] }, 'invariants[0].kind', 'atMost applies to policy checks only: a scenario has one device (use never)'],
    ['a time in a world without a clock', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'never', state: 'failed', afterHours: 4 }] }, 'invariants[0].afterHours', 'applies to policy checks only: a scenario has no clock'],
    ['a ring', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'never', ring: 'pilot', state: 'failed' }] }, 'invariants[0].ring', 'applies to policy checks only: a scenario has one device, in no ring of its own'],
    ['a name twice', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'never', state: 'failed' }, { kind: 'never', state: 'failed' }] }, 'invariants[1]', 'never-failed: the name of another invariant (give one a name of its own)'],
    ['a built-in name', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'never', state: 'failed', name: 'retiredIsFinal' }] }, 'invariants[0].name', 'retiredIsFinal: the name of another invariant (give one a name of its own)'],
    ['an invariant with a misspelt field', { ...DEFAULT_SCENARIO, invariants: [{ kind: 'never', states: 'failed' }] }, 'invariants[0].state', 'expected a non-empty string, got nothing'],
  ])('refuses %s, naming the path', (_what, value, path, problem) => {
    const e = refusal(value);
    expect({ source: e.source, path: e.path, problem: e.problem, code: e.code }).toEqual({ source: 's.json', path, problem, code: 'INVALID_SCENARIO' });
    expect(e.message).toBe(`s.json: ${path === '' ? '' : `${path}: `}${problem}`);
  });

  it('every scenario the TypeScript type allows whose references hold is accepted; one with a field of another JSON type is refused (fast-check)', () => {
    const id = fc.stringMatching(/^[A-Z][0-9]{1,2}$/);
    const scenario: fc.Arbitrary<Scenario> = fc
      .record({ name: id, baselines: fc.uniqueArray(id, { minLength: 1, maxLength: 3 }), ids: fc.uniqueArray(id, { maxLength: 4 }), picks: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), flags: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }) })
      .map(({ name, baselines, ids, picks, flags }) => ({
        name,
        ...(flags[0] ? { description: `${name}.` } : {}),
        ...(flags[1] ? { device: 'model' } : {}),
        enrolledOn: baselines[picks[0]! % baselines.length]!,
        baselines,
        hotpatches: ids.map((h, i) => ({ id: h, baseline: baselines[(picks[1]! + i) % baselines.length]!, ...(i > 0 && flags[2] ? { requires: [ids[picks[2]! % i]!] } : {}), liveRevert: flags[3]! })),
        reboots: [{ reason: 'baseline', baseline: baselines[picks[3]! % baselines.length]! }, { reason: 'out-of-band' }],
        ...(flags[4] ? { eligibilityChanges: flags[5]! } : {}),
        ...(flags[6] ? { invariants: [{ kind: 'never' as const, state: DEVICE_MACHINE_STATES[picks[4]! % DEVICE_MACHINE_STATES.length]! }] } : {}),
      }));
    fc.assert(
      fc.property(scenario, (s) => {
        expect(validateScenario(JSON.parse(JSON.stringify(s)))).toEqual(s);
      }),
      { seed: 20261209, numRuns: 500 },
    );
    fc.assert(
      fc.property(retyped(scenario), (s) => {
        expect(() => validateScenario(s)).toThrow(ScenarioError);
      }),
      { seed: 20261211, numRuns: 500 },
    );
  });
});
