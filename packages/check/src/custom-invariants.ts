/**
 * Invariants a user names: a small closed set of parameterised predicates, each defined once as a schema (its type,
 * its check naming the path of a problem, and docs/schemas/invariants.schema.json). A scenario file holds them in
 * `invariants`; an invariants file (`hotpatch check --invariants`) holds them for a scenario or a policy check.
 * What each predicate means in each model, and where one does not apply: docs/model-checking.md, "Your own invariants".
 */
import { readJsonFile } from './json-file.js';
import { deviceStateInvariants, deviceTransitionInvariants, type StateInvariant } from './invariants.js';
import { compileEvolve, compileSchema, deviceMachine, expecting, InvalidDocumentError, type SchemaCheck, type SchemaProblem, type Shape, taggedCheck, Type, WholeNumber } from '@hotpatch/core';

const name = Type.Optional(
  Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]*$', description: 'How the output and the counterexample file (<name>.jsonl) name it; default: made of its parameters.' }),
);
const ring = Type.Optional(Type.String({ minLength: 1, description: 'Policy checks: a ring of the policy (default: the devices of every ring together). Not in a scenario (one device).' }));
const state = Type.String({
  minLength: 1,
  description: 'A device state. In a scenario: a state of the device machine (current, applied, needsReboot…). In a policy check: waiting, applying, applied, verified, failed or setAside.',
});

/** The predicates, by kind. */
export const CUSTOM_INVARIANTS = {
  atMost: Type.Object(
    { kind: Type.Literal('atMost'), name, ring, state, count: WholeNumber },
    { additionalProperties: false, description: 'No more than `count` devices (of `ring`) in `state` at once. Policy checks only: a scenario has one device.' },
  ),
  never: Type.Object(
    {
      kind: Type.Literal('never'),
      name,
      ring,
      state,
      afterHours: Type.Optional(Type.Number({ minimum: 0, description: 'Policy checks: only from this many hours after the release on (default: ever). A scenario has no clock.' })),
    },
    { additionalProperties: false, description: 'No device (of `ring`) is ever in `state` (from `afterHours` after the release on).' },
  ),
  leavesWithin: Type.Object(
    { kind: Type.Literal('leavesWithin'), name, ring, state, hours: Type.Number({ exclusiveMinimum: 0, description: 'The longest a device may stay in `state`.' }) },
    { additionalProperties: false, description: 'No device (of `ring`) stays in `state` (applying or applied) longer than `hours`. Policy checks only: a scenario has no clock.' },
  ),
};

const I = CUSTOM_INVARIANTS;
/** One invariant's one definition: the CustomInvariant type, its check and its part of the published JSON Schemas. */
export const CustomInvariantSchema = Type.Union([I.atMost, I.never, I.leavesWithin]);
export type CustomInvariant = Shape<typeof CustomInvariantSchema>;

/** A list of them, as a scenario and an invariants file hold it. */
export const CustomInvariantsSchema = expecting(
  'an array of invariants',
  Type.Array(CustomInvariantSchema, { description: 'Invariants of your own, checked besides the built-in ones in every state of every run (a scenario takes `never` only).' }),
);

/** An invariants file: `{ "invariants": [ … ] }`. */
export const InvariantsFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'The JSON Schema this file follows (for editors); ignored.' })),
    invariants: CustomInvariantsSchema,
  },
  { additionalProperties: false },
);

/** An invariant that is not one, or that names what the model has not (see InvalidDocumentError). */
export class InvariantError extends InvalidDocumentError {
  readonly code = 'INVALID_INVARIANT';
}

const invariantProblem = taggedCheck('kind', CUSTOM_INVARIANTS);

/** The first problem of a list of invariants, its path starting at `base` (`invariants[2].count`). */
export function invariantsProblem(value: unknown, base = 'invariants'): SchemaProblem | undefined {
  if (!Array.isArray(value)) return { path: base, message: 'expected an array of invariants' };
  for (const [i, item] of value.entries()) {
    const problem = invariantProblem(item);
    if (problem !== undefined) return { path: `${base}[${i}]${problem.path === '' ? '' : `.${problem.path}`}`, message: problem.message };
  }
  return undefined;
}

/** Its name: given, or made of its parameters (`atMost-pilot-applied-5`, `never-needsReboot`). */
export function invariantName(inv: CustomInvariant): string {
  if (inv.name !== undefined) return inv.name;
  const parts: Array<string | number> = [inv.kind, ...(inv.ring !== undefined ? [inv.ring] : []), inv.state];
  if (inv.kind === 'atMost') parts.push(inv.count);
  if (inv.kind === 'never' && inv.afterHours !== undefined) parts.push(`after-${inv.afterHours}h`);
  if (inv.kind === 'leavesWithin') parts.push(`${inv.hours}h`);
  return parts.join('-').replace(/[^A-Za-z0-9_-]/g, '_');
}

/** What it says, in a line. */
export function describeInvariant(inv: CustomInvariant): string {
  const of = inv.ring === undefined ? '' : ` of ring ${inv.ring}`;
  switch (inv.kind) {
    case 'atMost':
      return `No more than ${inv.count} device(s)${of} ${inv.state} at once.`;
    case 'never':
      return `No device${of} ${inv.state}${inv.afterHours === undefined ? ', ever' : ` from ${inv.afterHours} h after the release on`}.`;
    case 'leavesWithin':
      return `No device${of} stays ${inv.state} longer than ${inv.hours} h.`;
  }
}

const BUILT_IN_DEVICE_INVARIANTS = [...deviceStateInvariants, ...deviceTransitionInvariants].map((i) => i.name);

/** The device machine's states: what `state` names in a scenario. */
export const DEVICE_MACHINE_STATES: readonly string[] = compileEvolve(deviceMachine).states;

/**
 * The first invariant a scenario (one device, no clock) cannot check, or that names no state of the device machine,
 * or a name used twice (or by a built-in invariant).
 */
export function deviceInvariantsProblem(list: readonly CustomInvariant[], taken: readonly string[] = BUILT_IN_DEVICE_INVARIANTS, base = 'invariants'): SchemaProblem | undefined {
  const names = new Set(taken);
  for (const [i, inv] of list.entries()) {
    const at = (field: string) => `${base}[${i}]${field === '' ? '' : `.${field}`}`;
    if (inv.kind !== 'never') return { path: at('kind'), message: `${inv.kind} applies to policy checks only: a scenario has ${inv.kind === 'atMost' ? 'one device (use never)' : 'no clock'}` };
    if (inv.ring !== undefined) return { path: at('ring'), message: 'applies to policy checks only: a scenario has one device, in no ring of its own' };
    if (inv.afterHours !== undefined) return { path: at('afterHours'), message: 'applies to policy checks only: a scenario has no clock' };
    if (!DEVICE_MACHINE_STATES.includes(inv.state)) return { path: at('state'), message: `${inv.state} is not a state of the device machine (${DEVICE_MACHINE_STATES.join(', ')})` };
    const named = duplicateName(inv, names);
    if (named !== undefined) return { path: at(inv.name === undefined ? '' : 'name'), message: named };
  }
  return undefined;
}

/** An invariants file's invariants for a scenario check: InvariantError naming the file and the path when it cannot take them. */
export function checkDeviceInvariants(list: readonly CustomInvariant[], where: string, scenario: readonly CustomInvariant[]): void {
  const problem = deviceInvariantsProblem(list, [...BUILT_IN_DEVICE_INVARIANTS, ...scenario.map(invariantName)]);
  if (problem !== undefined) throw new InvariantError(where, problem.path, problem.message);
}

/** Undefined when the invariant's name is new (and adds it), or why it is not. */
export function duplicateName(inv: CustomInvariant, names: Set<string>): string | undefined {
  const n = invariantName(inv);
  if (names.has(n)) return `${n}: the name of another invariant (give one a name of its own)`;
  names.add(n);
  return undefined;
}

/** Reads an invariants file; throws InvariantError naming the file and the path of the first problem. */
export async function loadInvariants(path: string): Promise<CustomInvariant[]> {
  return validateInvariantsFile(await readJsonFile(path, 'an invariants file', (problem) => new InvariantError(path, '', problem)), path);
}

/**
 * The first problem of a document holding `invariants` (checked by `rest`, or undefined): each invariant by its kind
 * first, as the union's own error would list every kind's fields.
 */
export function withInvariantsProblem(value: unknown, rest: SchemaCheck<unknown>): SchemaProblem | undefined {
  const items = typeof value === 'object' && value !== null ? (value as { invariants?: unknown }).invariants : undefined;
  return (Array.isArray(items) ? invariantsProblem(items) : undefined) ?? rest.problem(value);
}

const fileCheck = compileSchema(InvariantsFileSchema);

/** Checks an invariants file's shape (not what it names: that is the model's to say). */
export function validateInvariantsFile(value: unknown, where = 'invariants file'): CustomInvariant[] {
  const problem = withInvariantsProblem(value, fileCheck);
  if (problem !== undefined) throw new InvariantError(where, problem.path, problem.message);
  return [...(value as Shape<typeof InvariantsFileSchema>).invariants];
}

/** The device machine's check of a custom invariant (a scenario allows `never` only: deviceInvariantsProblem). */
export function deviceInvariant(inv: CustomInvariant): StateInvariant {
  return {
    name: invariantName(inv),
    description: describeInvariant(inv),
    custom: true,
    check: (s) => (s.value === inv.state ? `the device is ${inv.state}` : undefined),
  };
}
