/** What the orchestrator does with input it must not take as it comes: ids reused for other content, malformed reports. */
import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { CommandIdReusedError, createEngine } from '@hotpatch/engine';
import { createInMemoryEventStore } from '@hotpatch/store';
import { simulatedClock } from '../clock.js';
import { PolicyError } from '../policy.js';
import { ReleaseConflictError, type AgentReport, type OrchestratorOptions } from './api.js';
import { InvalidOptionsError } from './options-schema.js';
import { InvalidReportError } from './report-schema.js';
import { createOrchestrator } from './shell.js';
import { HOTPATCH, POLICY, RELEASED } from './testing/given.js';

/** Three pilot devices and one broad, enrolled and eligible; an orchestrator over them. */
async function fleet() {
  const store = createInMemoryEventStore();
  const clock = simulatedClock(RELEASED);
  const engine = createEngine({ store, clock: () => clock.now() });
  for (const [device, ring] of [['p1', 'pilot'], ['p2', 'pilot'], ['p3', 'pilot'], ['b1', 'broad']] as const) {
    await engine.execute({ type: 'EnrolDevice', device, profile: eligibleProfile, ring, baseline: HOTPATCH.baseline });
    await engine.execute({ type: 'AssessEligibility', device, latestBaseline: HOTPATCH.baseline });
  }
  return { store, clock, o: createOrchestrator({ store, clock, policy: POLICY }) };
}

const id = (n: number) => `0193f2a0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

describe('ids reused for other content', () => {
  it('planRollout with a planned rollout’s id and another release: refused, nothing written, nothing kept', async () => {
    const { store, o } = await fleet();
    await o.planRollout(HOTPATCH);
    const before = await store.readAll();
    const error = await o.planRollout({ ...HOTPATCH, baseline: 'B-2026-02' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseConflictError);
    expect(error).toMatchObject({ code: 'RELEASE_CONFLICT', rollout: HOTPATCH.id, field: 'baseline', planned: HOTPATCH.baseline, given: 'B-2026-02' });
    expect(await store.readAll()).toEqual(before);
    // The instance still follows the logged plan: the pilot ring is instructed, no device is sent to restart.
    expect(await o.tick()).toMatchObject({ ringsStarted: 1, instructed: 3 });
    const after = (await store.readAll()).slice(before.length);
    expect(after.filter((e) => e.type === 'RebootRequired')).toEqual([]);
    // The same release again (its defaults spelled out or not) is no conflict, and writes nothing.
    await o.planRollout({ ...HOTPATCH, requires: [], outOfBand: false, cumulativeUpdate: `LCU-${HOTPATCH.id}` });
    expect(await store.readAll()).toHaveLength(before.length + after.length);
  });

  it('a health report resent under its id with the other verdict: a typed conflict, not a duplicate', async () => {
    const { store, o } = await fleet();
    await o.planRollout(HOTPATCH);
    await o.tick();
    const device = [...o.projection.devices.values()].find((d) => d.state.value === 'applying')!.id;
    await o.report({ id: id(1), device, kind: 'applied', patch: HOTPATCH.id });
    expect(await o.report({ id: id(2), device, kind: 'health', patch: HOTPATCH.id, healthy: false, signal: 'crash' })).toMatchObject({ status: 'recorded', events: 2 });
    const before = await store.readAll();
    const error = await o.report({ id: id(2), device, kind: 'health', patch: HOTPATCH.id, healthy: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandIdReusedError);
    expect(error).toMatchObject({ stream: `device/${device}`, id: id(2), differs: 'events' });
    expect(await store.readAll()).toEqual(before);
    expect(await o.report({ id: id(2), device, kind: 'health', patch: HOTPATCH.id, healthy: false, signal: 'crash' })).toEqual({ status: 'duplicate' });
  });
});

describe('reports and options are checked against their schemas before anything is decided', () => {
  const refusedReport = async (report: unknown, path: string, message: RegExp) => {
    const { store, o } = await fleet();
    await o.planRollout(HOTPATCH);
    await o.tick();
    const before = await store.readAll();
    const error = await o.report(report as AgentReport).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidReportError);
    expect(error).toMatchObject({ code: 'INVALID_REPORT', path });
    expect((error as Error).message).toMatch(message);
    expect(await store.readAll()).toEqual(before);
  };

  it('a health verdict that is a string, a device id that is not one, an unknown or missing kind', async () => {
    await refusedReport({ id: id(3), device: 'p1', kind: 'health', patch: HOTPATCH.id, healthy: 'false' }, 'healthy', /^agent report: healthy: expected true or false, got "false"$/);
    for (const device of [undefined, null, 42, { id: 'p1' }]) await refusedReport({ id: id(3), device, kind: 'applied', patch: HOTPATCH.id }, 'device', /device: expected a non-empty string/);
    await refusedReport({ id: id(3), device: 'p1', kind: 'verified', patch: HOTPATCH.id }, 'kind', /kind: expected one of "applied", .*, got "verified"/);
    await refusedReport({ id: id(3), device: 'p1', patch: HOTPATCH.id }, 'kind', /kind: expected one of .*, got nothing/);
    await refusedReport({ id: 'H', device: 'p1', kind: 'applied', patch: HOTPATCH.id }, 'id', /id: expected a lower-case UUID/);
  });

  it('createOrchestrator with no rings, a negative timeout, a bad batch size: one clear error each', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    const refused = (options: object, error: new (...args: never[]) => Error, path: string, message: RegExp) => {
      let thrown: unknown;
      try {
        createOrchestrator({ store, clock, policy: POLICY, ...options } as OrchestratorOptions);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(error);
      expect(thrown).toMatchObject({ path });
      expect((thrown as Error).message).toMatch(message);
    };
    refused({ policy: { ...POLICY, rings: [] } }, PolicyError, 'rings', /^orchestrator options: policy: rings: expected a non-empty array/);
    refused({ policy: { ...POLICY, applyTimeoutMinutes: -1 } }, PolicyError, 'applyTimeoutMinutes', /applyTimeoutMinutes: expected a number > 0, got number -1/);
    refused({ policy: { ...POLICY, rings: [{ ...POLICY.rings[0]!, gate: { ...POLICY.rings[0]!.gate, maxFailureRate: 5 } }] } }, PolicyError, 'rings[0].gate.maxFailureRate', /from 0 to 1/);
    refused({ batchSize: 0 }, InvalidOptionsError, 'batchSize', /batchSize: expected a whole number/);
    refused({ checkpoint: { name: '' } }, InvalidOptionsError, 'checkpoint.name', /non-empty/);
    refused({ clock: undefined }, InvalidOptionsError, 'clock', /clock/);
    expect(await store.readAll()).toEqual([]);
  });
});
