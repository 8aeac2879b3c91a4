/**
 * The device lifecycle's invariants, each named, each a pure function of a state or of a transition. They are
 * documented in docs/model-checking.md; a test builds a broken machine for each and shows the checker catches it.
 */
import { RESTING_STATES, IN_FLIGHT_STATES, type DeviceEventBody, type DeviceState } from '@hotpatch/core';

/** What an invariant knows besides the state: the scenario's catalog (which baseline each hotpatch belongs to). */
export interface InvariantContext {
  readonly baselineOf: ReadonlyMap<string, string>;
}

export interface StateInvariant<S = DeviceState> {
  readonly name: string;
  readonly description: string;
  /** Named by the user (a scenario's or an invariants file's), not built in. */
  readonly custom?: boolean;
  /** A message saying what is wrong, or undefined when the state is fine. */
  check(state: S, ctx: InvariantContext): string | undefined;
}

export interface TransitionInvariant<S = DeviceState, E = DeviceEventBody> {
  readonly name: string;
  readonly description: string;
  readonly custom?: boolean;
  check(before: S, event: E, after: S, ctx: InvariantContext): string | undefined;
}

/** A scenario's facts the invariants need (its hotpatches' baselines): a Scenario gives them. */
export function invariantContext(scenario: { readonly hotpatches: ReadonlyArray<{ readonly id: string; readonly baseline: string }> }): InvariantContext {
  return { baselineOf: new Map(scenario.hotpatches.map((h) => [h.id, h.baseline])) };
}

const resting = new Set<string>(RESTING_STATES);
const inFlightStates = new Set<string>(IN_FLIGHT_STATES);
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

export const deviceStateInvariants: readonly StateInvariant[] = [
  {
    name: 'appliedOnInstalledBaseline',
    description: 'Every applied hotpatch belongs to the installed baseline.',
    check: ({ context }, { baselineOf }) => {
      for (const patch of Object.keys(context.applied)) {
        const baseline = baselineOf.get(patch);
        if (baseline !== context.baseline) return `${patch} (baseline ${baseline ?? 'unknown'}) is applied on baseline ${context.baseline ?? 'none'}`;
      }
      return undefined;
    },
  },
  {
    name: 'requirementsApplied',
    description: "Every applied hotpatch's requirements are applied.",
    check: ({ context }) => {
      for (const [patch, requires] of Object.entries(context.applied)) {
        const missing = requires.filter((r) => !(r in context.applied));
        if (missing.length) return `${patch} is applied without ${missing.join(', ')}`;
      }
      return undefined;
    },
  },
  {
    name: 'inFlightMatchesState',
    description: 'Nothing is in flight in a resting state; exactly one patch is in flight in staged, applying, applied, failed and rollingBack.',
    check: ({ value, context }) => {
      if (resting.has(value) && context.inFlight !== null) return `${context.inFlight.patch} is in flight in resting state ${value}`;
      if (inFlightStates.has(value) && context.inFlight === null) return `nothing is in flight in ${value}`;
      return undefined;
    },
  },
  {
    name: 'verifiedIsApplied',
    description: 'In verified, the verified patch is applied.',
    check: ({ value, context }) =>
      value === 'verified' && (context.verifiedPatch === null || !(context.verifiedPatch in context.applied)) ? `verified patch ${context.verifiedPatch ?? '(none)'} is not applied` : undefined,
  },
  {
    name: 'noStagedPatchWithRebootPending',
    description: 'No hotpatch is staged (or further in flight) while a reboot is pending.',
    check: ({ value, context }) => (inFlightStates.has(value) && context.rebootReason !== null ? `${value} with a reboot pending (${context.rebootReason})` : undefined),
  },
];

export const deviceTransitionInvariants: readonly TransitionInvariant[] = [
  {
    name: 'verifiedOnlyAfterHealthyApply',
    description: '`verified` is entered only from `applied`, by PatchVerified of the patch that was applied.',
    check: (before, event, after) => {
      if (after.value !== 'verified' || before.value === 'verified') return undefined;
      if (before.value !== 'applied') return `verified entered from ${before.value} by ${event.type}`;
      const patch = before.context.inFlight?.patch;
      if (event.type !== 'PatchVerified' || event.data.patch !== patch) return `verified entered by ${event.type} ${'patch' in event.data ? event.data.patch : ''} while ${patch ?? 'nothing'} was applied`;
      if (patch === undefined || !(patch in before.context.applied)) return `verified ${patch ?? '(none)'}, which was never applied`;
      return undefined;
    },
  },
  {
    name: 'rollbackRestoresRestorePoint',
    description: 'A completed live rollback restores exactly the set of hotpatches active before the apply.',
    check: (before, event, after) => {
      if (event.type !== 'PatchRolledBack' || after.value !== 'rolledBack') return undefined;
      const expected = Object.keys(before.context.restorePoint ?? {});
      const actual = Object.keys(after.context.applied);
      return sameSet(expected, actual) ? undefined : `rolled back to [${actual.sort().join(', ')}], restore point was [${expected.sort().join(', ')}]`;
    },
  },
  {
    name: 'noStagingWhileRebootPending',
    description: 'A hotpatch is never staged while a reboot is pending.',
    check: (before, event) => (event.type === 'PatchStaged' && before.context.rebootReason !== null ? `${event.data.patch} staged while a reboot is pending (${before.context.rebootReason})` : undefined),
  },
  {
    name: 'retiredIsFinal',
    description: 'A retired device accepts nothing: no transition leaves `retired`.',
    check: (before, event) => (before.value === 'retired' ? `${event.type} accepted after retirement` : undefined),
  },
];
