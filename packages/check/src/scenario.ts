/**
 * Scenarios: the finite world the checker explores, as data. A device enrolled on a baseline, the baselines it may
 * install, a catalog of hotpatches (with dependencies, some not live-revertible), and the reboot requests it may
 * receive. From these, every event an agent or the service can produce is generated: every outcome of an apply, a
 * health check and a rollback, reboots, baseline installs, eligibility changes and retirement.
 */
import { CustomInvariantsSchema, deviceInvariantsProblem, withInvariantsProblem } from './custom-invariants.js';
import { readJsonFile } from './json-file.js';
import { compileSchema, type DeviceEventBody, type DeviceProfile, InvalidDocumentError, NonEmptyString, refine, type SchemaProblem, type Shape, Type } from '@hotpatch/core';

export const ScenarioHotpatchSchema = Type.Object({
  id: NonEmptyString,
  baseline: Type.String({ minLength: 1, description: 'The baseline it applies on: one of the baselines.' }),
  requires: Type.Optional(Type.Array(Type.String(), { description: 'Hotpatches of the scenario it requires.' })),
  liveRevert: Type.Boolean(),
}, { additionalProperties: false });
export type ScenarioHotpatch = Shape<typeof ScenarioHotpatchSchema>;

const ScenarioShape = Type.Object({
  $schema: Type.Optional(Type.String({ description: 'The JSON Schema this file follows (for editors); ignored.' })),
  name: NonEmptyString,
  description: Type.Optional(Type.String()),
  device: Type.Optional(Type.String({ minLength: 1, description: 'The device id used in counterexample timelines (stream device/<id>).' })),
  enrolledOn: Type.String({ minLength: 1, description: 'The baseline the device is enrolled on: one of the baselines.' }),
  baselines: Type.Array(NonEmptyString, { minItems: 1, description: 'Baselines a reboot may install.' }),
  hotpatches: Type.Array(ScenarioHotpatchSchema),
  reboots: Type.Array(Type.Object({ reason: NonEmptyString, baseline: Type.Optional(NonEmptyString) }, { additionalProperties: false }), {
    description: 'The RebootRequired events the service may send (planned, unplanned and out-of-band baselines…).',
  }),
  eligibilityChanges: Type.Optional(Type.Boolean({ description: 'Whether eligibility may change (assessments both ways). Default true.' })),
  retirement: Type.Optional(Type.Boolean({ description: 'Whether the device may be retired. Default true.' })),
  invariants: Type.Optional(CustomInvariantsSchema),
}, { additionalProperties: false });
/** A scenario's one definition: its type, its check (validateScenario) and docs/schemas/scenario.schema.json. */
export const ScenarioSchema = refine(ScenarioShape, referenceProblem);
export type Scenario = Shape<typeof ScenarioSchema>;

/** The first reference to nothing: a baseline or a required hotpatch the scenario does not have, an id used twice. */
function referenceProblem(s: Shape<typeof ScenarioShape>): SchemaProblem | undefined {
  const baselines = new Set(s.baselines);
  const notBaseline = (path: string, b: string) => ({ path, message: `${b} is not one of the baselines` });
  if (!baselines.has(s.enrolledOn)) return notBaseline('enrolledOn', s.enrolledOn);
  const ids = new Set<string>();
  for (const [i, h] of s.hotpatches.entries()) {
    if (ids.has(h.id)) return { path: `hotpatches[${i}].id`, message: `${h.id} appears twice` };
    ids.add(h.id);
    if (!baselines.has(h.baseline)) return notBaseline(`hotpatches[${i}].baseline`, h.baseline);
  }
  for (const [i, h] of s.hotpatches.entries()) {
    for (const r of h.requires ?? []) if (!ids.has(r)) return { path: `hotpatches[${i}].requires`, message: `${r} is not a hotpatch of the scenario` };
  }
  for (const [i, r] of s.reboots.entries()) if (r.baseline !== undefined && !baselines.has(r.baseline)) return notBaseline(`reboots[${i}].baseline`, r.baseline);
  return deviceInvariantsProblem(s.invariants ?? []);
}

/** A scenario that is not one (see InvalidDocumentError). */
export class ScenarioError extends InvalidDocumentError {
  readonly code = 'INVALID_SCENARIO';
}

const profile: DeviceProfile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };

/**
 * The default scenario: two baselines, five hotpatches with dependencies, two of them not live-revertible, and
 * the planned, unplanned and out-of-band reboots.
 */
export const DEFAULT_SCENARIO: Scenario = {
  name: 'default',
  description: 'Two baselines; B1 has H1, H2 (requires H1, not live-revertible) and H3; B2 has H4 and H5 (requires H4, not live-revertible).',
  device: 'model',
  enrolledOn: 'B1',
  baselines: ['B1', 'B2'],
  hotpatches: [
    { id: 'H1', baseline: 'B1', liveRevert: true },
    { id: 'H2', baseline: 'B1', requires: ['H1'], liveRevert: false },
    { id: 'H3', baseline: 'B1', liveRevert: true },
    { id: 'H4', baseline: 'B2', liveRevert: true },
    { id: 'H5', baseline: 'B2', requires: ['H4'], liveRevert: false },
  ],
  reboots: [
    { reason: 'baseline', baseline: 'B2' },
    { reason: 'unplanned-baseline', baseline: 'B2' },
    { reason: 'out-of-band' },
    { reason: 'not-live-revertible' },
  ],
};

/** Every event of the scenario's world, in a fixed order (the order successors are explored in). */
export function scenarioEvents(scenario: Scenario): DeviceEventBody[] {
  const events: DeviceEventBody[] = [{ type: 'DeviceEnrolled', data: { ...profile, ring: 'pilot', baseline: scenario.enrolledOn } }];
  if (scenario.eligibilityChanges ?? true) {
    events.push({ type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } });
    events.push({ type: 'EligibilityAssessed', data: { eligible: false, reasons: ['vbs: virtualization-based security is not running'] } });
  } else {
    events.push({ type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } });
  }
  for (const h of scenario.hotpatches) {
    const patch = h.id;
    events.push(
      { type: 'PatchStaged', data: { patch, baseline: h.baseline, requires: [...(h.requires ?? [])], liveRevert: h.liveRevert } },
      { type: 'PatchApplyStarted', data: { patch } },
      { type: 'PatchApplied', data: { patch } },
      { type: 'PatchApplyFailed', data: { patch, reason: 'transition stalled' } },
      { type: 'PatchVerified', data: { patch } },
      { type: 'HealthCheckFailed', data: { patch, signal: 'crash rate' } },
      { type: 'RollbackStarted', data: { patch, reason: 'health check failed' } },
      { type: 'PatchRolledBack', data: { patch } },
      { type: 'RollbackFailed', data: { patch, reason: 'task stuck in patched function' } },
    );
  }
  for (const r of scenario.reboots) events.push({ type: 'RebootRequired', data: r.baseline === undefined ? { reason: r.reason } : { reason: r.reason, baseline: r.baseline } });
  for (const b of scenario.baselines) events.push({ type: 'BaselineInstalled', data: { baseline: b } });
  if (scenario.retirement ?? true) events.push({ type: 'DeviceRetired', data: {} });
  return events;
}

const scenarioCheck = compileSchema(ScenarioSchema);

/** Checks a scenario's shape and references; throws ScenarioError naming the path of the first problem. */
export function validateScenario(value: unknown, where = 'scenario'): Scenario {
  if (scenarioCheck.check(value)) return value;
  const { path, message } = withInvariantsProblem(value, scenarioCheck)!;
  throw new ScenarioError(where, path, message);
}

export async function loadScenario(path: string): Promise<Scenario> {
  return validateScenario(await readJsonFile(path, 'a scenario', (problem) => new ScenarioError(path, '', problem)), path);
}
