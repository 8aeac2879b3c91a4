import { describe, expect, it } from 'vitest';
import { CommandRefusedError, TransitionRefusedError, type DeviceCommand, type RolloutEventBody } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore, EventIdTakenError, type EventStore } from '@hotpatch/store';
import { ConcurrencyExhaustedError, createEngine, intentFor } from './engine.js';
import { eventIdFor } from './ids.js';
import { CommandIdReusedError } from './retry.js';

const clock = () => new Date('2026-02-10T17:00:00.000Z');
const enrol: DeviceCommand = { type: 'EnrolDevice', device: 'd1', profile: eligibleProfile, ring: 'pilot', baseline: 'B1' };
const assess: DeviceCommand = { type: 'AssessEligibility', device: 'd1', latestBaseline: 'B1' };
const stage = (id: string): DeviceCommand => ({ type: 'StagePatch', device: 'd1', hotpatch: { id, baseline: 'B1', requires: [], liveRevert: true } });

describe('engine', () => {
  it('records a command’s events and returns the state they lead to', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock, meta: { by: 'test' } });
    await engine.execute(enrol);
    const result = await engine.execute(assess);
    expect(result).toMatchObject({ stream: 'device/d1', version: 2, duplicate: false, attempts: 1 });
    expect(result.state.value).toBe('current');
    expect(result.events.map((e) => [e.type, e.version, e.time])).toEqual([['EligibilityAssessed', 2, '2026-02-10T17:00:00.000Z']]);
    expect(result.events[0]!.meta).toMatchObject({ by: 'test', commandType: 'AssessEligibility' });
    expect((await engine.load('d1')).state.value).toBe('current');
  });

  it('records a retried command once: same id, same events, nothing new written', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock });
    await engine.execute(enrol);
    await engine.execute(assess);
    await engine.execute(stage('P1'));
    await engine.execute({ type: 'StartApply', device: 'd1', patch: 'P1' });
    await engine.execute({ type: 'ReportApplied', device: 'd1', patch: 'P1' });
    const report: DeviceCommand = { type: 'ReportHealth', device: 'd1', patch: 'P1', healthy: false, signal: 'crash', id: '0193f2a0-0000-7000-8000-00000000abcd' };
    const first = await engine.execute(report);
    expect(first.events.map((e) => e.type)).toEqual(['HealthCheckFailed', 'RollbackStarted']);
    expect(first.events.map((e) => e.id)).toEqual([eventIdFor(report.id!, 0), eventIdFor(report.id!, 1)]);
    const before = await store.readAll();
    const again = await engine.execute(report);
    expect(again.duplicate).toBe(true);
    expect(again.events).toEqual(first.events);
    expect(await store.readAll()).toEqual(before);
  });

  it('recognises a retry on a long stream by its first event’s id, reading only what the command recorded', async () => {
    const inner = createInMemoryEventStore();
    let eventsRead = 0;
    const store: EventStore = {
      ...inner,
      readStream: async (stream, options) => {
        const read = await inner.readStream(stream, options);
        eventsRead += read.length;
        return read;
      },
    };
    const engine = createEngine({ store, clock });
    await engine.execute(enrol);
    for (let i = 0; i < 300; i++) await engine.execute(assess);
    // A command that recorded more events than one read brings (written here by hand), then a long history after it.
    const id = '0193f2a0-0000-7000-8000-00000000beef';
    const manyIds = Array.from({ length: 19 }, (_, i) => eventIdFor(id, i));
    const many = await store.appendToStream(
      'device/d1',
      manyIds.map((eventId) => ({ id: eventId, type: 'EligibilityAssessed', time: clock().toISOString(), data: { eligible: true, reasons: [] }, meta: { command: id } })),
    );
    for (let i = 0; i < 300; i++) await engine.execute(assess);
    await engine.execute(stage('P1'));
    await engine.execute({ type: 'StartApply', device: 'd1', patch: 'P1' });
    const report: DeviceCommand = { type: 'ReportApplied', device: 'd1', patch: 'P1', id: '0193f2a0-0000-7000-8000-00000000abce' };
    const first = await engine.execute(report);
    await engine.execute({ type: 'ReportHealth', device: 'd1', patch: 'P1', healthy: true });

    eventsRead = 0;
    const again = await engine.execute(report);
    expect(again).toMatchObject({ duplicate: true, events: first.events });
    expect(eventsRead).toBeLessThan(10);
    // Refused in its state, and the id holds 19 assessments: all of them read, and named as another command's.
    eventsRead = 0;
    const retried = await engine.execute({ type: 'ReportApplied', device: 'd1', patch: 'P1', id }).catch((e: unknown) => e);
    expect(retried).toBeInstanceOf(CommandIdReusedError);
    expect(retried).toMatchObject({ id, recorded: { version: many.events[0]!.version, events: many.events.map((e) => e.type) }, differs: 'events' });
    expect(eventsRead).toBeLessThan(30);
    // A refused command with an id never recorded is refused as it is.
    await expect(engine.execute({ ...report, id: '0193f2a0-0000-7000-8000-00000000abcf' })).rejects.toBeInstanceOf(CommandRefusedError);
  });

  it('refuses a command the lifecycle does not allow, with a typed error, and leaves the log intact', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock });
    await engine.execute(enrol);
    await engine.execute(assess);
    const wrongBaseline = await engine.execute({ type: 'StagePatch', device: 'd1', hotpatch: { id: 'P2', baseline: 'B2', requires: [], liveRevert: true } }).catch((e: unknown) => e);
    expect(wrongBaseline).toBeInstanceOf(CommandRefusedError);
    expect((wrongBaseline as CommandRefusedError).refusal).toMatchObject({ state: 'current', rule: 'onPatchBaseline' });
    await engine.execute(stage('P1'));
    const second = await engine.execute(stage('P3')).catch((e: unknown) => e);
    expect((second as CommandRefusedError).refusal).toMatchObject({ state: 'staged', rule: undefined, accepted: ['PatchApplyStarted', 'RebootRequired', 'DeviceRetired'] });
    expect(await store.streamVersion('device/d1')).toBe(3);
  });

  it('refuses a command id already used for another device, naming that device, and writes nothing', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock });
    const id = '0193f2a0-0000-7000-8000-00000000beef';
    await engine.execute({ ...enrol, id });
    const reused = await engine.execute({ ...enrol, device: 'd2', id }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(EventIdTakenError);
    expect(reused).toMatchObject({ stream: 'device/d2', id, holder: { stream: 'device/d1', version: 1 } });
    expect(await store.streamVersion('device/d2')).toBe(0);
    // The same command for the same device is still a retry.
    expect(await engine.execute({ ...enrol, id })).toMatchObject({ duplicate: true });
  });

  it('decides again on the fresh state when a concurrent writer got there first', async () => {
    const store = createInMemoryEventStore();
    const a = createEngine({ store, clock });
    const b = createEngine({ store, clock });
    await a.execute(enrol);
    await a.execute(assess);
    // Both read version 2 and both want to stage: one wins, the other re-decides and is refused, nothing is lost.
    const [ra, rb] = await Promise.allSettled([a.execute(stage('P1')), b.execute(stage('P2'))]);
    const fulfilled = [ra, rb].filter((r) => r.status === 'fulfilled');
    const rejected = [ra, rb].filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(fulfilled).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(CommandRefusedError);
    expect((await store.readStream('device/d1')).map((e) => e.version)).toEqual([1, 2, 3]);
    // Two assessments race on another device: both are recorded, the second after a retry.
    await a.execute({ ...enrol, device: 'd2' });
    const [x, y] = await Promise.all([a.execute({ ...assess, device: 'd2' }), b.execute({ ...assess, device: 'd2' })]);
    expect([x.version, y.version].sort()).toEqual([2, 3]);
    expect(Math.max(x.attempts, y.attempts)).toBe(2);
    expect((await store.readStream('device/d2')).map((e) => e.type)).toEqual(['DeviceEnrolled', 'EligibilityAssessed', 'EligibilityAssessed']);
  });

  it('gives up with a typed error when a competing writer always wins', async () => {
    const inner = createInMemoryEventStore();
    await createEngine({ store: inner, clock }).execute(enrol);
    const competitor = createEngine({ store: inner, clock });
    const contested: EventStore = {
      ...inner,
      appendToStream: async (stream, events, options) => {
        await competitor.execute({ type: 'AssessEligibility', device: 'd1', latestBaseline: 'B1' });
        return inner.appendToStream(stream, events, options);
      },
    };
    const error = await createEngine({ store: contested, clock, maxAttempts: 3 }).execute(assess).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyExhaustedError);
    expect(error).toMatchObject({ stream: 'device/d1', attempts: 3, last: { actual: 4 } });
  });

  it('decides without I/O, and commits what it decided at the version it was decided on', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock, meta: { by: 'test' } });
    await engine.execute(enrol);
    const known = await engine.load('d1');
    const id = '0193f2a0-0000-7000-8000-00000000a001';
    const intent = intentFor(known, { ...assess, id }, '2026-02-11T00:00:00.000Z', { by: 'orchestrator' });
    expect(intent).toMatchObject({ stream: 'device/d1', expectedVersion: 1, state: { value: 'current' } });
    expect(intent.events).toEqual([{ id, type: 'EligibilityAssessed', time: '2026-02-11T00:00:00.000Z', data: { eligible: true, reasons: [] }, meta: { by: 'orchestrator', command: id, commandType: 'AssessEligibility' } }]);
    expect(await store.streamVersion('device/d1')).toBe(1); // nothing written yet
    const result = await engine.commit(intent);
    expect(result).toMatchObject({ duplicate: false, attempts: 1, version: 2 });
    expect(result.events.map((e) => e.id)).toEqual([id]);
    expect(await engine.commit(intent)).toMatchObject({ duplicate: true, events: result.events });
  });

  it('a commit decided on a stale state decides again on the fresh one, with the same id and time', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock });
    await engine.execute(enrol);
    const stale = engine.decide({ ...assess, id: '0193f2a0-0000-7000-8000-00000000a002' }, await engine.load('d1'));
    await engine.execute(assess); // another writer
    const result = await engine.commit(stale);
    expect(result).toMatchObject({ duplicate: false, attempts: 2, version: 3 });
    expect(result.events[0]).toMatchObject({ id: stale.command.id, time: stale.time, version: 3 });
    // Refused on the fresh state, and never recorded: the refusal as it is.
    const staging = engine.decide({ ...stage('P1'), id: '0193f2a0-0000-7000-8000-00000000a003' }, await engine.load('d1'));
    await engine.execute(stage('P2'));
    await expect(engine.commit(staging)).rejects.toBeInstanceOf(CommandRefusedError);
  });

  it('a stale commit with one attempt allowed is ConcurrencyExhaustedError after that attempt, nothing written', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock, maxAttempts: 1 });
    await engine.execute(enrol);
    const stale = engine.decide({ ...assess, id: '0193f2a0-0000-7000-8000-00000000a004' }, await engine.load('d1'));
    await engine.execute(assess); // another writer
    const error = await engine.commit(stale).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyExhaustedError);
    expect(error).toMatchObject({ stream: 'device/d1', attempts: 1 });
    expect(await store.streamVersion('device/d1')).toBe(2);
  });

  it('carries a rollout’s and a ring’s commands: the event asked for, its id the command’s, the engine’s meta only', async () => {
    const store = createInMemoryEventStore();
    const engine = createEngine({ store, clock, meta: { instance: 'a' } });
    const planned: RolloutEventBody = {
      type: 'RolloutPlanned',
      data: { release: 'HP-2026-02', releaseKind: 'hotpatch', releasedAt: '2026-02-10T17:00:00.000Z', liveRevert: true, outOfBand: false, rings: [{ name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 24 }, deadlineDays: 5 }] },
    };
    const id = '0193f2a0-0000-7000-8000-00000000b001';
    const first = await engine.execute({ rollout: 'HP-2026-02', id, event: planned });
    expect(first).toMatchObject({ stream: 'rollout/HP-2026-02', version: 1, duplicate: false, state: { value: 'betweenRings' } });
    expect(first.events[0]).toMatchObject({ id, type: 'RolloutPlanned', meta: { instance: 'a' } });
    expect(first.events[0]!.meta).toEqual({ instance: 'a' });
    // A retry, refused by the state it led to, is recognised by its id.
    expect(await engine.execute({ rollout: 'HP-2026-02', id, event: planned })).toMatchObject({ duplicate: true, events: first.events });
    // Refused, and never recorded: the lifecycle's refusal, located as the store locates it.
    const refused = await engine.execute({ rollout: 'HP-2026-02', event: { type: 'RolloutResumed', data: { by: 'service' } } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CommandRefusedError);
    expect((refused as CommandRefusedError).refusal).toBeInstanceOf(TransitionRefusedError);
    expect((refused as CommandRefusedError).refusal!.message).toMatch(/^rollout\/HP-2026-02@2: RolloutResumed refused in state 'betweenRings'/);
    // A ring's pause, then the tenant's resume; with no meta of its own, an engine without meta records none.
    const bare = createEngine({ store, clock });
    await bare.execute({ ring: 'broad', event: { type: 'RingPaused', data: { by: 'tenant', reason: 'freeze' } } });
    const resumed = await bare.execute({ ring: 'broad', event: { type: 'RingResumed', data: { by: 'tenant' } } });
    expect(resumed).toMatchObject({ stream: 'ring/broad', version: 2, state: { value: 'open' } });
    expect(resumed.events[0]!.meta).toBeUndefined();
  });

  describe('a command id reused for another command is not a retry', () => {
    const health = (healthy: boolean, id: string): DeviceCommand => ({ type: 'ReportHealth', device: 'd1', patch: 'P1', healthy, ...(healthy ? {} : { signal: 'crash' }), id });
    const applied = async (engine: ReturnType<typeof createEngine>) => {
      for (const command of [enrol, assess, stage('P1'), { type: 'StartApply', device: 'd1', patch: 'P1' }, { type: 'ReportApplied', device: 'd1', patch: 'P1' }] as DeviceCommand[]) await engine.execute(command);
    };
    const conflict = async (engine: ReturnType<typeof createEngine>, command: DeviceCommand) => {
      const error = await engine.execute(command).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandIdReusedError);
      return error as CommandIdReusedError;
    };

    it('a health report with the other verdict under a used id: refused, naming the id, the stream and what differs', async () => {
      const store = createInMemoryEventStore();
      const engine = createEngine({ store, clock });
      await applied(engine);
      const id = '0193f2a0-0000-7000-8000-00000000c001';
      await engine.execute(health(false, id));
      const before = await store.readAll();
      const error = await conflict(engine, health(true, id));
      expect(error).toMatchObject({ code: 'COMMAND_ID_REUSED', stream: 'device/d1', id, differs: 'events', recorded: { version: 6, commandType: 'ReportHealth', events: ['HealthCheckFailed', 'RollbackStarted'] }, sent: { commandType: 'ReportHealth', events: ['PatchVerified'] } });
      expect(error.message).toContain(id);
      // Other data under the same type: named as such.
      expect(await conflict(engine, { ...health(false, id), signal: 'hang' } as DeviceCommand)).toMatchObject({ differs: 'data' });
      expect(await store.readAll()).toEqual(before);
      // The same report again is still a retry.
      expect(await engine.execute(health(false, id))).toMatchObject({ duplicate: true });
    });

    it('an id reused for another command type, or a two-event command’s id for a one-event command: the same error, never a duplicate', async () => {
      const store = createInMemoryEventStore();
      const engine = createEngine({ store, clock });
      const enrolId = '0193f2a0-0000-7000-8000-00000000c002';
      await engine.execute({ ...enrol, id: enrolId });
      // Accepted in its state: the store's id check, named as the command it holds.
      expect(await conflict(engine, { ...assess, id: enrolId })).toMatchObject({ differs: 'command type', recorded: { commandType: 'EnrolDevice', events: ['DeviceEnrolled'] } });
      await engine.execute(assess);
      await engine.execute(stage('P1'));
      await engine.execute({ type: 'StartApply', device: 'd1', patch: 'P1' });
      await engine.execute({ type: 'ReportApplied', device: 'd1', patch: 'P1' });
      const twoId = '0193f2a0-0000-7000-8000-00000000c003';
      await engine.execute(health(false, twoId));
      // Refused in its state (rolling back): the lookup, not a truncated list.
      expect(await conflict(engine, { type: 'ReportRolledBack', device: 'd1', patch: 'P9', id: twoId })).toMatchObject({ differs: 'command type', recorded: { events: ['HealthCheckFailed', 'RollbackStarted'] } });
      // Accepted in its state: the store's partial-batch check, named the same way.
      expect(await conflict(engine, { type: 'ReportRolledBack', device: 'd1', patch: 'P1', id: twoId })).toMatchObject({ differs: 'command type' });
      expect(await store.streamVersion('device/d1')).toBe(7);
    });

    it('a retried failure report is recognised after the device moved on, whichever remedy it took', async () => {
      const store = createInMemoryEventStore();
      const engine = createEngine({ store, clock });
      await engine.execute(enrol);
      await engine.execute(assess);
      await engine.execute({ type: 'StagePatch', device: 'd1', hotpatch: { id: 'P1', baseline: 'B1', requires: [], liveRevert: false } });
      await engine.execute({ type: 'StartApply', device: 'd1', patch: 'P1' });
      const id = '0193f2a0-0000-7000-8000-00000000c004';
      const failed: DeviceCommand = { type: 'ReportApplyFailed', device: 'd1', patch: 'P1', reason: 'stalled', id };
      expect((await engine.execute(failed)).events.map((e) => e.type)).toEqual(['PatchApplyFailed', 'RebootRequired']);
      await engine.execute({ type: 'ReportBaselineInstalled', device: 'd1', baseline: 'B1' });
      expect(await engine.execute(failed)).toMatchObject({ duplicate: true });
    });

    it('a rollout command’s id reused for another event: refused, not taken for the recorded one', async () => {
      const store = createInMemoryEventStore();
      const engine = createEngine({ store, clock });
      const id = '0193f2a0-0000-7000-8000-00000000c005';
      await engine.execute({ ring: 'broad', id, event: { type: 'RingPaused', data: { by: 'tenant', reason: 'freeze' } } });
      const other = await engine.execute({ ring: 'broad', id, event: { type: 'RingPaused', data: { by: 'tenant', reason: 'audit' } } }).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(CommandIdReusedError);
      expect(other).toMatchObject({ stream: 'ring/broad', id, differs: 'data' });
      const resume = await engine.execute({ ring: 'broad', id, event: { type: 'RingResumed', data: { by: 'tenant' } } }).catch((e: unknown) => e);
      expect(resume).toMatchObject({ differs: 'command type', recorded: { commandType: 'RingPaused' } });
      expect(await store.streamVersion('ring/broad')).toBe(1);
    });
  });
});
