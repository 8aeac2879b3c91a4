/**
 * A caller's `known` state (a projection of the log) may be stale: the README promises one version conflict and a
 * fresh read, never a wrong answer. A refusal decided on it is a wrong answer when the fresh state accepts.
 */
import { expect, it } from 'vitest';
import { CommandRefusedError, type DeviceCommand, type DeviceState } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { createEngine } from './engine.js';

const clock = () => new Date('2026-02-10T17:00:00.000Z');
const enrol: DeviceCommand = { type: 'EnrolDevice', device: 'd1', profile: eligibleProfile, ring: 'pilot', baseline: 'B1' };
const assess: DeviceCommand = { type: 'AssessEligibility', device: 'd1', latestBaseline: 'B1' };
const stage: DeviceCommand = { type: 'StagePatch', device: 'd1', hotpatch: { id: 'P1', baseline: 'B1', requires: [], liveRevert: true } };

it('a command refused on a stale known state is decided again on a fresh read, and recorded when the fresh state accepts it', async () => {
  const store = createInMemoryEventStore();
  const engine = createEngine({ store, clock });
  await engine.execute(enrol);
  const stale = await engine.load('d1'); // enrolled, not yet assessed: staging is refused there
  await engine.execute(assess); // another writer moved the device on
  const result = await engine.execute(stage, { known: stale });
  expect(result).toMatchObject({ duplicate: false, version: 3, attempts: 2 });
  expect(result.state.value).toBe('staged');
  expect((await store.readAll()).map((e) => e.type)).toEqual(['DeviceEnrolled', 'EligibilityAssessed', 'PatchStaged']);
});

it('a refusal on a known state that is the store’s own stands after one read, and a retried command is still recognised', async () => {
  const inner = createInMemoryEventStore();
  let reads = 0;
  const store: EventStore = { ...inner, readState: (stream) => (reads++, inner.readState(stream)) };
  const engine = createEngine({ store, clock });
  await engine.execute(enrol);
  const known = await engine.load('d1');
  reads = 0;
  const error = await engine.execute(stage, { known }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CommandRefusedError);
  expect(reads).toBe(1);
  // A report retried with a stale known state is answered with what was recorded.
  const id = '0193f2a0-0000-7000-8000-00000000c001';
  const before = (await engine.load('d1')) as { state: DeviceState; version: number };
  const first = await engine.execute({ ...assess, id });
  expect(await engine.execute({ ...assess, id }, { known: before })).toMatchObject({ duplicate: true, events: first.events });
});
