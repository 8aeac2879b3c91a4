/** Commands come as JSON from agents: each is checked against its schema before anything is decided or written. */
import { describe, expect, it } from 'vitest';
import { InvalidCommandError, type DeviceCommand } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore } from '@hotpatch/store';
import { createEngine } from './engine.js';

const clock = () => new Date('2026-02-10T17:00:00.000Z');

/** An engine over a device applying P1; `refused(command)` expects one InvalidCommandError and nothing written. */
async function applying() {
  const store = createInMemoryEventStore();
  const engine = createEngine({ store, clock });
  await engine.execute({ type: 'EnrolDevice', device: 'd1', profile: eligibleProfile, ring: 'pilot', baseline: 'B1' });
  await engine.execute({ type: 'AssessEligibility', device: 'd1', latestBaseline: 'B1' });
  await engine.execute({ type: 'StagePatch', device: 'd1', hotpatch: { id: 'P1', baseline: 'B1', requires: [], liveRevert: true } });
  await engine.execute({ type: 'StartApply', device: 'd1', patch: 'P1' });
  await engine.execute({ type: 'ReportApplied', device: 'd1', patch: 'P1' });
  const refused = async (command: unknown, path: string, message: RegExp) => {
    const before = await store.readAll();
    const error = await engine.execute(command as DeviceCommand).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCommandError);
    expect(error).toMatchObject({ code: 'INVALID_COMMAND', path });
    expect((error as Error).message).toMatch(message);
    // decide refuses it the same way, without I/O.
    expect(() => engine.decide(command as DeviceCommand, { state: undefined as never, version: 0 })).toThrow(InvalidCommandError);
    expect(await store.readAll()).toEqual(before);
  };
  return { store, engine, refused };
}

describe('a command is checked against its schema before anything is decided', () => {
  it('a health verdict that is not a boolean', async () => {
    const { refused } = await applying();
    await refused({ type: 'ReportHealth', device: 'd1', patch: 'P1', healthy: 'false' }, 'healthy', /^ReportHealth command: healthy: expected true or false, got "false"$/);
  });

  it('a device id missing, null, a number or an object: no stream device/undefined, device/42…', async () => {
    const { store, refused } = await applying();
    await refused({ type: 'ReportHealth', patch: 'P1', healthy: true }, 'device', /device: expected a non-empty string of at most 200 characters, .*, got nothing$/);
    for (const device of [null, 42, { id: 'd1' }, '']) await refused({ type: 'ReportHealth', device, patch: 'P1', healthy: true }, 'device', /device: expected a non-empty string/);
    expect((await store.readAll()).map((e) => e.stream)).toEqual(Array(5).fill('device/d1'));
  });

  it('a device, ring or rollout id that breaks the id rule (lone surrogates, controls, bidi controls, over 200 characters)', async () => {
    const { store, refused } = await applying();
    for (const device of ['a\ud800b', 'a\u0000b', 'a\u202eb', 'a\u0085b', 'x'.repeat(201)]) {
      await refused({ type: 'ReportHealth', device, patch: 'P1', healthy: true }, 'device', /device: expected a non-empty string of at most 200 characters, none of them a control character/);
    }
    await refused({ type: 'EnrolDevice', device: 'd9', profile: eligibleProfile, ring: 'pi\u2066lot', baseline: 'B1' }, 'ring', /ring: expected a non-empty string of at most 200/);
    await refused({ ring: 'a\udfffb', event: { type: 'RingPaused', data: { by: 'tenant', reason: 'freeze' } } }, 'ring', /^ring command: ring: expected a non-empty string of at most 200 .*, got "a\\udfffb", which holds a lone surrogate \(U\+DFFF\) at character 2$/);
    await refused({ rollout: 'HP-\u202e1', event: { type: 'RolloutResumed', data: { by: 'tenant' } } }, 'rollout', /got "HP-\\u202e1", which holds a bidirectional control \(U\+202E\) at character 4$/);
    expect(new Set((await store.readAll()).map((e) => e.stream))).toEqual(new Set(['device/d1']));
  });

  it('an assessment without the latest baseline, a hotpatch whose requires is a string', async () => {
    const { refused } = await applying();
    await refused({ type: 'AssessEligibility', device: 'd1' }, 'latestBaseline', /latestBaseline: expected a non-empty string, got nothing/);
    await refused({ type: 'StagePatch', device: 'd2', hotpatch: { id: 'P2', baseline: 'B1', requires: 'HP-0', liveRevert: true } }, 'hotpatch.requires', /hotpatch\.requires: expected an array of non-empty strings/);
  });

  it('an unknown or missing command type, a field the command does not have, an id that is not a UUID', async () => {
    const { refused } = await applying();
    await refused({ type: 'ReportHealthy', device: 'd1', patch: 'P1', healthy: true }, 'type', /^device command: type: expected one of "EnrolDevice", .*"RetireDevice", got "ReportHealthy"$/);
    await refused({ device: 'd1', patch: 'P1' }, 'type', /type: expected one of .*, got nothing/);
    await refused(null, '', /expected an object, got null/);
    await refused({ type: 'ReportApplied', device: 'd1', patch: 'P1', healthy: true }, 'healthy', /healthy/);
    await refused({ type: 'ReportApplied', device: 'd1', patch: 'P1', id: 'H' }, 'id', /id: expected a lower-case UUID/);
  });

  it('a rollout’s or a ring’s command: its stream’s id, the event’s type and data', async () => {
    const { refused } = await applying();
    await refused({ ring: 42, event: { type: 'RingPaused', data: { by: 'tenant', reason: 'freeze' } } }, 'ring', /^ring command: ring: expected a non-empty string of at most 200 characters, .*, got number 42$/);
    await refused({ ring: 'broad', event: { type: 'RingClosed', data: {} } }, 'event.type', /expected one of "RingPaused", "RingResumed"/);
    await refused({ ring: 'broad', event: { type: 'RingPaused', data: { by: 'nobody', reason: 'freeze' } } }, 'event.data.by', /one of "service", "tenant"/);
    await refused({ rollout: 'HP-1', event: { type: 'RolloutResumed', data: {} } }, 'event.data.by', /by/);
  });
});
