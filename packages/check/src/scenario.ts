/**
 * Scenarios: the finite world the checker explores, as data. A device enrolled on a baseline, the baselines it may
 * install, a catalog of hotpatches (with dependencies, some not live-revertible), and the reboot requests it may
 * receive. From these, every event an agent or the service can produce is generated: every outcome of an apply, a
 * health check and a rollback, reboots, baseline installs, eligibility changes and retirement.
 */
import { readSmallFile } from '@hotpatch/store';
import type { DeviceEventBody, DeviceProfile } from '@hotpatch/core';

export interface ScenarioHotpatch {
  readonly id: string;
  readonly baseline: string;
  readonly requires?: readonly string[];
  readonly liveRevert: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  /** The device id used in counterexample timelines (stream `device/<id>`). */
  readonly device?: string;
  /** The baseline the device is enrolled on. */
  readonly enrolledOn: string;
  /** Baselines a reboot may install. */
  readonly baselines: readonly string[];
  readonly hotpatches: readonly ScenarioHotpatch[];
  /** The RebootRequired events the service may send (planned, unplanned and out-of-band baselines…). */
  readonly reboots: ReadonlyArray<{ readonly reason: string; readonly baseline?: string }>;
  /** Whether eligibility may change (assessments both ways). Default true. */
  readonly eligibilityChanges?: boolean;
  /** Whether the device may be retired. Default true. */
  readonly retirement?: boolean;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
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

/** Checks a scenario's shape and references; throws ScenarioError naming the first problem. */
export function validateScenario(value: unknown, where = 'scenario'): Scenario {
  const fail = (msg: string): never => {
    throw new ScenarioError(`${where}: ${msg}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a JSON object');
  const s = value as Record<string, unknown>;
  const str = (v: unknown, name: string) => (typeof v === 'string' && v.length > 0 ? v : fail(`${name}: expected a non-empty string`));
  str(s.name, 'name');
  str(s.enrolledOn, 'enrolledOn');
  if (!Array.isArray(s.baselines) || s.baselines.length === 0) fail('baselines: expected a non-empty array of baseline ids');
  (s.baselines as unknown[]).forEach((b, i) => str(b, `baselines[${i}]`));
  const baselines = new Set(s.baselines as string[]);
  if (!baselines.has(s.enrolledOn as string)) fail(`enrolledOn: ${String(s.enrolledOn)} is not one of the baselines`);
  if (!Array.isArray(s.hotpatches)) fail('hotpatches: expected an array');
  const ids = new Set<string>();
  (s.hotpatches as unknown[]).forEach((h, i) => {
    const hp = (typeof h === 'object' && h !== null ? h : fail(`hotpatches[${i}]: expected an object`)) as Record<string, unknown>;
    const id = str(hp.id, `hotpatches[${i}].id`);
    if (ids.has(id)) fail(`hotpatches[${i}].id: ${id} appears twice`);
    ids.add(id);
    if (!baselines.has(str(hp.baseline, `hotpatches[${i}].baseline`))) fail(`hotpatches[${i}].baseline: ${String(hp.baseline)} is not one of the baselines`);
    if (typeof hp.liveRevert !== 'boolean') fail(`hotpatches[${i}].liveRevert: expected true or false`);
    if (hp.requires !== undefined && (!Array.isArray(hp.requires) || hp.requires.some((r) => typeof r !== 'string'))) fail(`hotpatches[${i}].requires: expected an array of hotpatch ids`);
  });
  (s.hotpatches as ScenarioHotpatch[]).forEach((h, i) => {
    for (const r of h.requires ?? []) if (!ids.has(r)) fail(`hotpatches[${i}].requires: ${r} is not a hotpatch of the scenario`);
  });
  if (!Array.isArray(s.reboots)) fail('reboots: expected an array of {reason, baseline?}');
  (s.reboots as unknown[]).forEach((r, i) => {
    const rr = (typeof r === 'object' && r !== null ? r : fail(`reboots[${i}]: expected an object`)) as Record<string, unknown>;
    str(rr.reason, `reboots[${i}].reason`);
    if (rr.baseline !== undefined && !baselines.has(str(rr.baseline, `reboots[${i}].baseline`))) fail(`reboots[${i}].baseline: ${String(rr.baseline)} is not one of the baselines`);
  });
  return value as Scenario;
}

export async function loadScenario(path: string): Promise<Scenario> {
  let read: Awaited<ReturnType<typeof readSmallFile>>;
  try {
    read = await readSmallFile(path);
  } catch (error) {
    throw new ScenarioError(`${path}: cannot read (${(error as Error).message})`);
  }
  if ('tooLarge' in read) throw new ScenarioError(`${path}: larger than 1 MiB: not a scenario`);
  const { text } = read;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return validateScenario(value, path);
}
