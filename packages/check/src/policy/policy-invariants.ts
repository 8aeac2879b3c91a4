/**
 * Custom invariants (custom-invariants.ts) in the policy model: counted over the ring populations of every state of
 * every run. A state holds from the instant its step happened until the instant before the orchestrator's next act
 * (the model's next tick); the end of a run (halted or completed) only at its instant: what devices do after the
 * rollout ends (a halt's rollbacks) is not modelled.
 */
import type { FleetPolicy } from '@hotpatch/fleet';
import { describeInvariant, duplicateName, invariantName, InvariantError, type CustomInvariant } from '../custom-invariants.js';
import { rolloutStateInvariants, rolloutTransitionInvariants } from '../rollout-model.js';
import type { ModelState, PolicyModel } from './policy-model.js';
import { isApplied, isApplying, lastEventTick, type Local } from './population.js';

/** A device's state as the policy model knows it: what `state` names in a policy check. */
export const POLICY_DEVICE_STATES = ['waiting', 'applying', 'applied', 'verified', 'failed', 'setAside'] as const;
export type PolicyDeviceState = (typeof POLICY_DEVICE_STATES)[number];

/** The state of a local state (see population.ts); undefined for a summarised ring's `ok` and `bad`. */
export function policyStateOf(local: Local): PolicyDeviceState | undefined {
  if (local === 'w') return 'waiting';
  if (isApplying(local)) return 'applying';
  if (isApplied(local)) return 'applied';
  if (local === 'v') return 'verified';
  if (local === 'fr' || local === 'fn') return 'failed';
  if (local === 'sr') return 'setAside';
  return undefined;
}

/** Where a state of a run is: from `at` to `until` (ms, both included). */
export interface Held {
  readonly at: number;
  readonly until: number;
}

export interface PolicyInvariant {
  readonly name: string;
  readonly description: string;
  readonly custom: true;
  readonly spec: CustomInvariant;
  /** A message saying what is wrong in `s` while it is held, or undefined. */
  check(s: ModelState, held: Held, model: PolicyModel): string | undefined;
}

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The states of a ring's devices once its gate passed: the gate needs every device reported, none waiting or in flight. */
const OUTCOMES: ReadonlySet<string> = new Set<PolicyDeviceState>(['verified', 'failed', 'setAside']);

/**
 * Whether the invariant must see the devices of a ring whose gate passed after it passed (then the search does not
 * summarise such rings). Those devices are verified, failed or set aside, and stay so: an invariant about another
 * state never sees them; `never` without a time sees them when the gate passes (the state before the summary is
 * checked), as does one ring's `atMost`. What is left: `atMost` over every ring (they add to the other rings'), and
 * `never … afterHours` (they are still there at a later hour).
 */
export const needsWholeRings = (inv: CustomInvariant): boolean =>
  OUTCOMES.has(inv.state) && ((inv.kind === 'atMost' && inv.ring === undefined) || (inv.kind === 'never' && inv.afterHours !== undefined));

/**
 * The invariants for a policy's model: InvariantError (naming `where` and the path) for a ring the policy has not,
 * a state the model has not, a state no device leaves, or a name taken (by a built-in invariant, another one, or a
 * file the check writes).
 */
export function policyInvariants(list: readonly CustomInvariant[], policy: FleetPolicy, where = 'invariants', alsoTaken: readonly string[] = []): PolicyInvariant[] {
  const rings = policy.rings.map((r) => r.name);
  const taken = new Set([...rolloutStateInvariants, ...rolloutTransitionInvariants].map((i) => i.name).concat(['total', 'longest-applied'], rings, alsoTaken));
  return list.map((inv, i) => {
    const fail = (field: string, message: string): never => {
      throw new InvariantError(where, `invariants[${i}]${field === '' ? '' : `.${field}`}`, message);
    };
    if (inv.ring !== undefined && !rings.includes(inv.ring)) fail('ring', `${inv.ring} is not a ring of the policy (${rings.join(', ')})`);
    if (!(POLICY_DEVICE_STATES as readonly string[]).includes(inv.state)) fail('state', `${inv.state} is not a device state of the policy model (${POLICY_DEVICE_STATES.join(', ')})`);
    if (inv.kind === 'leavesWithin' && inv.state !== 'applying' && inv.state !== 'applied') fail('state', `a device never leaves ${inv.state} once there: leavesWithin takes applying or applied`);
    const named = duplicateName(inv, taken);
    if (named !== undefined) fail(inv.name === undefined ? '' : 'name', named);
    const ringIndexes = inv.ring === undefined ? rings.map((_, k) => k) : [rings.indexOf(inv.ring)];
    return { name: invariantName(inv), description: describeInvariant(inv), custom: true, spec: inv, check: predicate(inv, ringIndexes) };
  });
}

function predicate(inv: CustomInvariant, rings: readonly number[]): PolicyInvariant['check'] {
  const of = inv.ring === undefined ? '' : ` of ${inv.ring}`;
  /** The devices of the rings in the invariant's state, with their local states. */
  const matching = (s: ModelState) => {
    const out: Array<readonly [Local, number]> = [];
    for (const r of rings) for (const entry of s.rings[r]!.entries()) if (policyStateOf(entry[0]) === inv.state) out.push(entry);
    return out;
  };
  const total = (s: ModelState) => matching(s).reduce((sum, [, n]) => sum + n, 0);
  switch (inv.kind) {
    case 'atMost':
      return (s) => {
        const n = total(s);
        return n > inv.count ? `${n} devices${of} ${inv.state} at once` : undefined;
      };
    case 'never':
      return (s, held, model) => {
        const from = inv.afterHours === undefined ? held.at : model.time(0) + inv.afterHours * HOUR;
        if (held.until < from) return undefined;
        const n = total(s);
        return n > 0 ? `${n} device(s)${of} ${inv.state} at ${iso(Math.max(held.at, from))}` : undefined;
      };
    case 'leavesWithin':
      return (s, held, model) => {
        for (const [local, n] of matching(s)) {
          const since = model.time(lastEventTick(local)!);
          if (held.until > since + inv.hours * HOUR) return `${n} device(s)${of} ${inv.state} since ${iso(since)}: longer than ${inv.hours} h`;
        }
        return undefined;
      };
  }
}
