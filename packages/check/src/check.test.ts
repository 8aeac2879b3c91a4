/**
 * The checker on the real lifecycle, and the proof that it can fail: for each invariant, a deliberately broken
 * variant of the machine is caught with a minimal counterexample whose timeline replays to the bad state.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assign, type AnyStateMachine } from 'xstate';
import { compileEvolve, deviceMachine, deviceSetup, type DeviceState } from '@hotpatch/core';
import { readTimeline } from '@hotpatch/store';
import { foldTimeline } from '@hotpatch/replay';
import { check, DEFAULT_SCENARIO, deviceCheckModel, deviceStateInvariants, deviceTransitionInvariants, formatPath, invariantContext, pathToTimeline, stateFingerprint, timelineText, type Scenario } from './index.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-check-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The machine with some states' transitions replaced (a config change, like a developer's mistake). */
function withStates(changes: Record<string, object>): AnyStateMachine {
  const config = deviceMachine.config as { states: Record<string, object> };
  return deviceSetup.createMachine({ ...(deviceMachine.config as object), states: { ...config.states, ...changes } } as never);
}
const on = (state: string) => (deviceMachine.config as { states: Record<string, { on?: object }> }).states[state]!.on ?? {};

describe('the device lifecycle under the checker', () => {
  const result = check(deviceCheckModel(DEFAULT_SCENARIO));

  it('explores the default scenario fully: every invariant holds, no deadlock, every state recoverable', () => {
    expect(result.stats.complete).toBe(true);
    expect(result.violations).toEqual([]);
    expect(result.deadlocks).toEqual([]);
    expect(result.unrecoverable).toEqual([]);
    expect(result.stats.distinctStates).toBeGreaterThan(1000);
  });

  it('reaches every state and every transition of the machine', () => {
    expect(result.coverage.states.missing).toEqual([]);
    expect(result.coverage.transitions.missing).toEqual([]);
    expect(result.coverage.transitions.reached).toBe(compileEvolve(deviceMachine).transitions.length);
  });

  it('merges states by a fingerprint that ignores key order', () => {
    const state = result.stats.distinctStates;
    const a = { value: 'current', context: { b: 1, a: { y: [1, 2], x: 'z' } } };
    const b = { value: 'current', context: { a: { x: 'z', y: [1, 2] }, b: 1 } };
    expect(stateFingerprint(a)).toBe(stateFingerprint(b));
    expect(stateFingerprint({ ...a, value: 'staged' })).not.toBe(stateFingerprint(a));
    expect(state).toBe(check(deviceCheckModel(DEFAULT_SCENARIO)).stats.distinctStates);
  });

  it('respects --max-depth and --max-states, and says the search is incomplete', () => {
    const shallow = check(deviceCheckModel(DEFAULT_SCENARIO), { maxDepth: 4 });
    expect(shallow.stats).toMatchObject({ complete: false, stoppedBy: 'max-depth', depth: 4 });
    expect(shallow.unrecoverable).toBeNull();
    const few = check(deviceCheckModel(DEFAULT_SCENARIO), { maxStates: 100 });
    expect(few.stats).toMatchObject({ complete: false, stoppedBy: 'max-states', distinctStates: 100 });
  });

  it('finds a deadlock and an unrecoverable state when the machine has them', () => {
    // A reboot that never completes: needsReboot accepts nothing but retirement… and without retirement, nothing.
    const stuck = withStates({ needsReboot: { on: {} } });
    const r = check(deviceCheckModel({ ...DEFAULT_SCENARIO, retirement: false }, stuck));
    expect(r.deadlocks.length).toBeGreaterThan(0);
    expect(r.deadlocks.every((d) => d.state.value === 'needsReboot')).toBe(true);
    expect(r.unrecoverable!.length).toBeGreaterThan(0);
    expect(r.deadlocks[0]!.path.map((step) => step.event.type)).toEqual(['DeviceEnrolled', 'RebootRequired']);
  });
});

interface Broken {
  readonly invariant: string;
  /** Other invariants the same mistake must also be caught by (a state invariant beside a transition one). */
  readonly also?: readonly string[];
  readonly machine: AnyStateMachine;
  /** The length of the shortest path to the violation. */
  readonly steps: number;
  readonly scenario?: Scenario;
}

const broken: Record<string, Broken> = {
  'a guard that lets a patch through on the wrong baseline': {
    invariant: 'appliedOnInstalledBaseline',
    // Checks everything but the baseline.
    machine: deviceMachine.provide({
      guards: { canStage: (({ context, event }: { context: DeviceState['context']; event: { data: { requires: string[]; patch: string } } }) => context.eligible && context.inFlight === null && event.data.requires.every((r) => r in context.applied) && !(event.data.patch in context.applied)) as never },
    }),
    steps: 5, // enrol, assess, stage H4 (B2) on B1, start, applied
  },
  'a guard that ignores requirements': {
    invariant: 'requirementsApplied',
    machine: deviceMachine.provide({ guards: { canStage: ({ context, event }: { context: DeviceState['context']; event: { data: { baseline: string } } }) => context.baseline === event.data.baseline } as never }),
    steps: 5, // enrol, assess, stage H2 without H1, start, applied
  },
  'a verify that forgets to clear the patch in flight': {
    invariant: 'inFlightMatchesState',
    machine: deviceMachine.provide({ actions: { verify: assign(({ context }: { context: DeviceState['context'] }) => ({ verifiedPatch: context.inFlight!.patch, rollbackable: context.inFlight })) as never } }),
    steps: 6,
  },
  'a verified state reachable while still applying': {
    invariant: 'verifiedOnlyAfterHealthyApply',
    machine: withStates({ applying: { on: { ...on('applying'), PatchVerified: { guard: 'isPatchInFlight', target: 'verified', actions: 'verify' } } } }),
    also: ['verifiedIsApplied'],
    steps: 5, // enrol, assess, stage, start, verified (never applied)
  },
  'a rollback that forgets the restore point': {
    invariant: 'rollbackRestoresRestorePoint',
    machine: deviceMachine.provide({ actions: { restore: assign({ inFlight: null, failure: null }) as never } }),
    steps: 7, // enrol, assess, stage, start, applied, rollback started, rolled back
  },
  'staging accepted while a reboot is pending': {
    invariant: 'noStagingWhileRebootPending',
    machine: withStates({ needsReboot: { on: { ...on('needsReboot'), PatchStaged: { target: 'staged', actions: 'stage' } } } }),
    also: ['noStagedPatchWithRebootPending'],
    steps: 3, // enrol, reboot, stage
  },
  'a retired device that can come back': {
    invariant: 'retiredIsFinal',
    machine: withStates({ retired: { on: { BaselineInstalled: { target: 'current', actions: 'installBaseline' } } } }),
    steps: 3, // enrol, retire, baseline installed
  },
};

describe('the checker catches each broken variant with a minimal counterexample that replays', () => {
  for (const [what, b] of Object.entries(broken)) {
    it(`${b.invariant}: ${what}`, async () => {
      const scenario = b.scenario ?? DEFAULT_SCENARIO;
      const result = check(deviceCheckModel(scenario, b.machine));
      expect(result.stats.stoppedBy).toBe('violation');
      const violation = result.violations.find((v) => v.invariant === b.invariant);
      expect(violation, `expected ${b.invariant}, got ${result.violations.map((v) => v.invariant).join(', ')}`).toBeDefined();
      expect(violation!.path).toHaveLength(b.steps);
      for (const other of b.also ?? []) expect(result.violations.find((v) => v.invariant === other)?.path).toHaveLength(b.steps);
      expect(formatPath(violation!.initial, violation!.path)).toMatch(new RegExp(`^ {3}0\\. \\(start\\) state unenrolled\\n {3}1\\. DeviceEnrolled`));

      // The timeline is in our format (the real reader takes it) and replays, on the broken machine, to the bad state.
      const file = join(dir, `${b.invariant}.jsonl`);
      await writeFile(file, timelineText(pathToTimeline(violation!.path, { device: 'model', name: b.invariant })));
      const timeline = await readTimeline(file);
      expect(timeline.problems).toEqual([]);
      const replayed = foldTimeline({ events: timeline.events, lines: timeline.lines }, { lifecycle: compileEvolve(b.machine) as never });
      const end = replayed.streams.get('device/model')!.state;
      expect(stateFingerprint(end)).toBe(stateFingerprint(violation!.path.at(-1)!.state));
      // On the real machine the same timeline is refused, or it ends in a state where every invariant holds.
      const real = foldTimeline({ events: timeline.events, lines: timeline.lines }, { collectProblems: true });
      if (real.problems.length === 0) {
        const ctx = invariantContext(scenario);
        const finalState = real.streams.get('device/model')!.state;
        expect(deviceStateInvariants.map((inv) => inv.check(finalState, ctx)).filter(Boolean)).toEqual([]);
      } else {
        expect(real.problems[0]!.code).toBe('TRANSITION_REFUSED');
      }
    });
  }

  it('covers every invariant with a broken variant', () => {
    const caught = new Set(Object.values(broken).flatMap((b) => [b.invariant, ...(b.also ?? [])]));
    expect([...deviceStateInvariants, ...deviceTransitionInvariants].map((i) => i.name).filter((n) => !caught.has(n))).toEqual([]);
  });

  it('with --continue, reports every violated invariant, each with its own shortest path', () => {
    const sloppy = deviceMachine.provide({ guards: { canStage: () => true }, actions: { restore: assign({ inFlight: null, failure: null }) as never } });
    const r = check(deviceCheckModel(DEFAULT_SCENARIO, sloppy), { continueOnViolation: true });
    expect(r.stats.complete).toBe(true);
    const names = r.violations.map((v) => v.invariant);
    expect(names).toEqual(expect.arrayContaining(['appliedOnInstalledBaseline', 'requirementsApplied', 'rollbackRestoresRestorePoint']));
    expect(r.violations.every((v) => v.count >= 1)).toBe(true);
  });
});

describe('scenarios are data', () => {
  it('the default scenario ships as a file that loads to the built-in one', async () => {
    const { loadScenario } = await import('./index.js');
    const file = new URL('../scenarios/default.json', import.meta.url).pathname;
    expect(await loadScenario(file)).toEqual(DEFAULT_SCENARIO);
  });
});
