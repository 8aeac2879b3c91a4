/**
 * Given/when/then specifications of healing: a log with a unit of work cut short between the appends of one
 * instruction, a tick, and the steps that carry it on — with the ids the unit would have written.
 */
import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import type { Step } from './decision.js';
import { at, device, given, HOTPATCH, pilotProved, RELEASED, ring, rollout } from './testing/given.js';

const HP = rollout(HOTPATCH);
const hours = (h: number) => new Date(Date.parse(RELEASED) + h * 3_600_000).toISOString();
const pilot = (...ids: string[]) => ids.flatMap((id) => [device(id).enrolled('pilot'), device(id).assessed()]);
const started = (n: number) => [HP.planned(), HP.ringStarted('pilot', RELEASED, n)];
const idsOf = (steps: readonly Step[]) => steps.map((s) => (s.kind === 'append' ? s.intent.events.map((e) => e.id) : [])).flat();
const metaOf = (steps: readonly Step[]) => steps.map((s) => (s.kind === 'append' ? s.intent.events[0]!.meta?.['healed'] : undefined));
/** The ids a tick that is never cut short writes for the pilot ring of these devices. */
const crashFreeIds = (...ids: string[]) => idsOf(given(...pilot(...ids), HP.planned()).when(RELEASED).tick().decided.steps).slice(1);

describe('healing an instruction a unit of work cut short', () => {
  it('given a device staged and no instruction: its apply, then the instruction, with the ids the unit would have written', () => {
    const tick = given(...pilot('p1', 'p2'), ...started(2), device('p1').staged())
      .when(hours(1))
      .tick()
      .then('device/p1@3: PatchApplyStarted', 'rollout/HP-2026-02@2: DeviceInstructed', 'device/p2@2: PatchStaged', 'device/p2@3: PatchApplyStarted', 'rollout/HP-2026-02@3: DeviceInstructed');
    expect(tick.result).toMatchObject({ healed: 1, instructed: 1 });
    expect(idsOf(tick.decided.steps)).toEqual(crashFreeIds('p1', 'p2').slice(1));
    expect(metaOf(tick.decided.steps).slice(0, 2)).toEqual([{ gap: 'staged-without-instruction', rollout: 'HP-2026-02' }, { gap: 'staged-without-instruction', rollout: 'HP-2026-02' }]);
    expect(metaOf(tick.decided.steps).slice(2)).toEqual([undefined, undefined, undefined]);
  });

  it('given a device applying (or verified since) and no instruction: the instruction, and its outcome at the next tick', () => {
    given(...pilot('p1'), ...started(1), device('p1').staged(), device('p1').applying())
      .when(hours(1))
      .tick()
      .then('rollout/HP-2026-02@2: DeviceInstructed');
    const verified = [...pilot('p1'), ...started(1), device('p1').staged(), device('p1').applying(), device('p1').applied(), device('p1').verified()];
    const tick = given(...verified).when(hours(3)).tick().then('rollout/HP-2026-02@2: DeviceInstructed');
    expect(tick.events(0)[0]).toMatchObject({ id: crashFreeIds('p1')[2], data: { ring: 'pilot', device: 'p1', action: 'hotpatch' }, meta: { healed: { gap: 'applying-without-instruction', rollout: 'HP-2026-02' } } });
    given(...verified, at(hours(3)), HP.instructed('pilot', 'p1'))
      .when(hours(4))
      .tick()
      .then('rollout/HP-2026-02@3: DeviceSucceeded');
  });

  it('given a device restarting onto the cumulative update and no instruction: the instruction (a reboot)', () => {
    const tick = given(
      device('p1').enrolled('pilot', HOTPATCH.baseline, { ...eligibleProfile, vbs: false }),
      device('p1').assessed(false),
      ...started(1),
      device('p1').rebootRequired('eligibility', 'LCU-HP-2026-02'),
    )
      .when(hours(1))
      .tick()
      .then('rollout/HP-2026-02@2: DeviceInstructed');
    expect(tick.events(0)[0]!.data).toEqual({ ring: 'pilot', device: 'p1', action: 'reboot' });
    expect(tick.result).toMatchObject({ healed: 1, instructed: 0 });
  });

  it('given a device that restarted onto the cumulative update since the ring started, and no instruction: the instruction and its outcome', () => {
    const ineligible = [device('p1').enrolled('pilot', HOTPATCH.baseline, { ...eligibleProfile, vbs: false }), device('p1').assessed(false)];
    const restarted = [device('p1').rebootRequired('eligibility', 'LCU-HP-2026-02'), { stream: 'device/p1', type: 'BaselineInstalled', data: { baseline: 'LCU-HP-2026-02' } }];
    const tick = given(...ineligible, ...started(1), ...restarted)
      .when(hours(1))
      .tick()
      .then('rollout/HP-2026-02@2: DeviceInstructed', 'rollout/HP-2026-02@3: DeviceSucceeded');
    expect(metaOf(tick.decided.steps)).toEqual([
      { gap: 'reboot-without-instruction', rollout: 'HP-2026-02' },
      { gap: 'reboot-without-instruction', rollout: 'HP-2026-02' },
    ]);
    // On the update before the ring started (imaged with it, say): not the rollout's doing, and nothing to heal.
    given(at(hours(-2)), ...ineligible, ...restarted, at(RELEASED), ...started(1)).when(hours(1)).tick().then();
  });

  it('given an instruction and no device step: the stage and the apply, with the instruction’s ids; a stage alone: its apply', () => {
    const tick = given(...pilot('p1'), ...started(1), HP.instructed('pilot', 'p1'))
      .when(hours(1))
      .tick()
      .then('device/p1@2: PatchStaged', 'device/p1@3: PatchApplyStarted');
    expect(idsOf(tick.decided.steps)).toEqual(crashFreeIds('p1').slice(0, 2));
    expect(metaOf(tick.decided.steps)).toEqual([
      { gap: 'instruction-without-step', rollout: 'HP-2026-02' },
      { gap: 'instruction-without-step', rollout: 'HP-2026-02' },
    ]);
    expect(tick.result).toMatchObject({ healed: 1 });
    given(...pilot('p1'), ...started(1), device('p1').staged(), HP.instructed('pilot', 'p1'))
      .when(hours(1))
      .tick()
      .then('device/p1@3: PatchApplyStarted');
  });

  it('given an instruction to restart and no restart asked: the restart, with the instruction’s id; none once it restarted', () => {
    const ineligible = [device('p3').enrolled('pilot', HOTPATCH.baseline, { ...eligibleProfile, vbs: false }), device('p3').assessed(false)];
    const tick = given(...ineligible, ...started(1), HP.instructed('pilot', 'p3', 'reboot'))
      .when(hours(1))
      .tick()
      .then('device/p3@2: RebootRequired');
    expect(tick.events(0)[0]).toMatchObject({ data: { reason: 'eligibility', baseline: 'LCU-HP-2026-02' }, meta: { healed: { gap: 'instruction-without-step', rollout: 'HP-2026-02' } } });
    const crashFree = given(...ineligible, HP.planned()).when(RELEASED).tick().then('rollout/HP-2026-02@1: RingStarted', 'device/p3@2: RebootRequired', 'rollout/HP-2026-02@2: DeviceInstructed');
    expect(tick.events(0)[0]!.id).toBe(crashFree.events(1)[0]!.id);
    given(...ineligible, ...started(1), device('p3').rebootRequired('eligibility', 'LCU-HP-2026-02'), HP.instructed('pilot', 'p3', 'reboot'))
      .when(hours(1))
      .tick()
      .then();
  });

  it('is not a gap: an instruction its agent has not answered yet, nor a device that has its outcome', () => {
    const instructed = [...pilot('p1', 'p2'), ...started(2), ...['p1', 'p2'].flatMap((id) => [device(id).staged(), device(id).applying(), HP.instructed('pilot', id)])];
    given(...instructed).when(hours(0.5)).tick().then();
    given(...instructed, device('p1').applied(), device('p1').verified(), HP.succeeded('pilot', 'p1')).when(hours(0.5)).tick().then();
  });

  it('given the store answers that another instance carried the apply on first, the instruction is still recorded, once', () => {
    given(...pilot('p1'), ...started(1), device('p1').staged())
      .when(hours(1), { answers: new Map([[0, { kind: 'duplicate' }]]) })
      .tick()
      .then('device/p1@3: PatchApplyStarted', 'rollout/HP-2026-02@2: DeviceInstructed');
  });

  it('waits while the ring is paused, as new instructions do', () => {
    given(...pilot('p1'), ...started(1), device('p1').staged(), ring('pilot').paused()).when(hours(1)).tick().then();
  });

  it('given a device staged with a hotpatch its ring proved and never applied: the catch-up’s apply', () => {
    const catchUp = given(...pilotProved, at(hours(26)), ...pilot('late'), device('late').staged())
      .when(hours(27))
      .catchUp()
      .then('device/late@3: PatchApplyStarted');
    expect(catchUp.result).toEqual({ caughtUp: 0, timedOut: 0, healed: 1 });
    expect(metaOf(catchUp.decided.steps)).toEqual([{ gap: 'stage-without-apply', rollout: 'HP-2026-02' }]);
    // The id the catch-up's own apply has: the same whoever heals it.
    const crashFree = given(...pilotProved, at(hours(26)), ...pilot('late')).when(hours(27)).catchUp().then('device/late@2: PatchStaged', 'device/late@3: PatchApplyStarted');
    expect(idsOf(catchUp.decided.steps)).toEqual(idsOf(crashFree.decided.steps).slice(1));
  });
});
