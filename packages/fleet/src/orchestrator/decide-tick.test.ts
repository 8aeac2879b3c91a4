/** Given/when/then specifications of the tick decision: the log in, a tick at a time, the intents out. */
import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { at, describeStep, device, given, HOTPATCH, POLICY, RELEASED, ring, rollout } from './testing/given.js';

const HP = rollout(HOTPATCH);
const hours = (h: number) => new Date(Date.parse(RELEASED) + h * 3_600_000).toISOString();
const pilot = (...ids: string[]) => ids.flatMap((id) => [device(id).enrolled('pilot'), device(id).assessed()]);
/** The pilot ring started at the release, these devices staged, applying and instructed. */
const instructedAtRelease = (...ids: string[]) => [HP.ringStarted('pilot', RELEASED, ids.length), ...ids.flatMap((id) => [device(id).staged(), device(id).applying(), HP.instructed('pilot', id)])];

describe('the tick decision', () => {
  it('starts a ring once its deferral passed, and instructs its devices: the hotpatch, or the cumulative update with a restart', () => {
    const tick = given(...pilot('p1', 'p2'), device('p3').enrolled('pilot', HOTPATCH.baseline, { ...eligibleProfile, vbs: false }), device('p3').assessed(false), HP.planned())
      .when(RELEASED)
      .tick()
      .then(
        'rollout/HP-2026-02@1: RingStarted',
        'device/p1@2: PatchStaged',
        'device/p1@3: PatchApplyStarted',
        'rollout/HP-2026-02@2: DeviceInstructed',
        'device/p2@2: PatchStaged',
        'device/p2@3: PatchApplyStarted',
        'rollout/HP-2026-02@3: DeviceInstructed',
        'device/p3@2: RebootRequired',
        'rollout/HP-2026-02@4: DeviceInstructed',
      );
    expect(tick.result).toMatchObject({ ringsStarted: 1, instructed: 3 });
    expect(tick.events(0)[0]!.data).toEqual({ ring: 'pilot', at: RELEASED, devices: 3 });
    expect(tick.events(7)[0]!.data).toEqual({ reason: 'eligibility', baseline: 'LCU-HP-2026-02' });
    expect(tick.events(8)[0]!.data).toEqual({ ring: 'pilot', device: 'p3', action: 'reboot' });
  });

  it('instructs no more devices a tick than the policy allows, and none in a paused ring', () => {
    given(...pilot('p1', 'p2'), HP.planned())
      .when(RELEASED, { policy: { ...POLICY, maxInstructionsPerTick: 1 } })
      .tick()
      .then('rollout/HP-2026-02@1: RingStarted', 'device/p1@2: PatchStaged', 'device/p1@3: PatchApplyStarted', 'rollout/HP-2026-02@2: DeviceInstructed');
    given(...pilot('p1', 'p2'), HP.planned(), ring('pilot').paused()).when(RELEASED).tick().then();
  });

  it('instructs at most a unit’s share of devices, and says where the tick goes on (in another unit of work)', () => {
    const pace = { unitInstructions: 2, instructed: new Map<string, number>() };
    const first = given(...pilot('p1', 'p2', 'p3'), HP.planned())
      .when(RELEASED, { pace })
      .tick()
      .then(
        'rollout/HP-2026-02@1: RingStarted',
        'device/p1@2: PatchStaged',
        'device/p1@3: PatchApplyStarted',
        'rollout/HP-2026-02@2: DeviceInstructed',
        'device/p2@2: PatchStaged',
        'device/p2@3: PatchApplyStarted',
        'rollout/HP-2026-02@3: DeviceInstructed',
      );
    expect(first.result.rest?.instructed).toEqual(new Map([['HP-2026-02', 2]]));
    // The next unit, on the log as the first left it: the third device, and the tick is done.
    const firstUnit = [HP.ringStarted('pilot', RELEASED, 3), ...['p1', 'p2'].flatMap((id) => [device(id).staged(), device(id).applying(), HP.instructed('pilot', id)])];
    const next = given(...pilot('p1', 'p2', 'p3'), HP.planned(), ...firstUnit)
      .when(RELEASED, { pace: first.result.rest! })
      .tick()
      .then('device/p3@2: PatchStaged', 'device/p3@3: PatchApplyStarted', 'rollout/HP-2026-02@4: DeviceInstructed');
    expect(next.result).toMatchObject({ instructed: 1, ringsStarted: 0 });
    expect(next.result.rest).toBeUndefined();
    // The policy's budget is per tick, over its units.
    given(...pilot('p1', 'p2', 'p3'), HP.planned(), ...firstUnit)
      .when(RELEASED, { policy: { ...POLICY, maxInstructionsPerTick: 2 }, pace: first.result.rest! })
      .tick()
      .then();
  });

  it('resuming a tick, goes on from the rollout and the device the last unit stopped at, and does nothing before them again', () => {
    // HP's pilot passed its gate this very tick (a unit before), with no deferral for broad; HP2's pilot ring started
    // and instructed p1 and p2 before the unit was full.
    const undeferred = { ...POLICY, rings: POLICY.rings.map((r) => ({ ...r, deferralDays: 0 })) };
    const HP2 = rollout({ ...HOTPATCH, id: 'HP-2026-03' });
    const log = [
      ...pilot('p1', 'p2', 'p3'),
      device('b1').enrolled('broad'),
      device('b1').assessed(),
      HP.planned(undeferred.rings),
      ...instructedAtRelease('p1'),
      device('p1').applied(),
      device('p1').verified(),
      HP.succeeded('pilot', 'p1'),
      HP.gatePassed('pilot', hours(25)),
      HP2.planned(undeferred.rings),
      HP2.ringStarted('pilot', hours(25), 3),
      ...['p2', 'p3'].flatMap((id) => [device(id).staged({ ...HOTPATCH, id: 'HP-2026-03' }), device(id).applying('HP-2026-03'), HP2.instructed('pilot', id)]),
    ];
    const resume = { unitInstructions: 1, instructed: new Map([['HP-2026-03', 2]]), resume: { rollout: 'HP-2026-03', device: 'p1' } };
    given(...log)
      .when(hours(25), { policy: undeferred, pace: resume })
      .tick()
      .then('device/p1@6: PatchStaged', 'device/p1@7: PatchApplyStarted', 'rollout/HP-2026-03@4: DeviceInstructed');
    // A tick of its own at that time starts HP's next ring first.
    expect(describeStep(given(...log).when(hours(25), { policy: undeferred }).tick().decided.steps[0]!)).toBe('rollout/HP-2026-02@5: RingStarted');
  });

  it('times out an apply past the policy’s minutes (a failure), and sets a silent agent aside (not a failure)', () => {
    const tick = given(...pilot('p1', 'p2'), HP.planned(), ...instructedAtRelease('p1', 'p2'), device('p2').applied())
      .when(hours(49))
      .tick()
      .then('device/p1@4: PatchApplyFailed, RollbackStarted', 'rollout/HP-2026-02@4: DeviceFailed', 'rollout/HP-2026-02@5: DeviceSetAside');
    expect(tick.events(0)[0]!.data).toEqual({ patch: 'HP-2026-02', reason: 'timed out after 60 min' });
    expect(tick.events(1)[0]!.data).toEqual({ ring: 'pilot', device: 'p1', reason: 'timeout' });
    expect(tick.events(2)[0]!.data).toEqual({ ring: 'pilot', device: 'p2', reason: 'agent silent for 48 h', instructed: true });
    expect(tick.result).toMatchObject({ timedOut: 1, outcomes: 1, setAside: 1 });
  });

  it('records outcomes, then passes the gate once the ring soaked', () => {
    const verified = [...instructedAtRelease('p1', 'p2'), at(hours(1)), ...['p1', 'p2'].flatMap((id) => [device(id).applied(), device(id).verified()])];
    given(...pilot('p1', 'p2'), HP.planned(), ...verified)
      .when(hours(2))
      .tick()
      .then('rollout/HP-2026-02@4: DeviceSucceeded', 'rollout/HP-2026-02@5: DeviceSucceeded');
    given(...pilot('p1', 'p2'), HP.planned(), ...verified, HP.succeeded('pilot', 'p1'), HP.succeeded('pilot', 'p2'))
      .when(hours(25))
      .tick()
      .then('rollout/HP-2026-02@6: GatePassed');
  });

  it('holds the gate of a ring with more devices set aside than the gate allows (maxSetAsideShare), to its deadline; without the field, passes it on those that reported', () => {
    // Three of four pilot agents silent after applying: one device verified, three set aside.
    const log = [...pilot('p1', 'p2', 'p3', 'p4'), ...instructedAtRelease('p1', 'p2', 'p3', 'p4'), at(hours(1)), ...['p1', 'p2', 'p3', 'p4'].map((id) => device(id).applied()), device('p1').verified()];
    const outcomes = [HP.succeeded('pilot', 'p1'), HP.setAside('pilot', 'p2'), HP.setAside('pilot', 'p3'), HP.setAside('pilot', 'p4')];
    given(...pilot('p1', 'p2', 'p3', 'p4'), HP.planned(), ...log.slice(8), ...outcomes)
      .when(hours(25))
      .tick()
      .then('rollout/HP-2026-02@10: GatePassed');
    const strict = POLICY.rings.map((r) => ({ ...r, gate: { ...r.gate, maxSetAsideShare: 0.5 } }));
    given(...pilot('p1', 'p2', 'p3', 'p4'), HP.planned(strict), ...log.slice(8), ...outcomes)
      .when(hours(25))
      .tick()
      .then();
    given(...pilot('p1', 'p2', 'p3', 'p4'), HP.planned(strict), ...log.slice(8), ...outcomes)
      .when(hours(5 * 24 + 1))
      .tick()
      // The halt rolls the release back on every device that has it, the silent ones too.
      .then('rollout/HP-2026-02@10: RolloutHalted', 'device/p1@6: RollbackStarted', 'device/p2@5: RollbackStarted', 'device/p3@5: RollbackStarted', 'device/p4@5: RollbackStarted');
    // Two of four set aside is within a half: the gate passes.
    given(...pilot('p1', 'p2', 'p3', 'p4'), HP.planned(strict), ...log.slice(8), device('p2').verified(), HP.succeeded('pilot', 'p1'), HP.succeeded('pilot', 'p2'), HP.setAside('pilot', 'p3'), HP.setAside('pilot', 'p4'))
      .when(hours(25))
      .tick()
      .then('rollout/HP-2026-02@10: GatePassed');
  });

  it('halts a ring whose gate has not passed by its deadline, and rolls back what it applied, live', () => {
    const tick = given(
      ...pilot('p1', 'p2', 'p3'),
      HP.planned(),
      ...instructedAtRelease('p1', 'p2', 'p3'),
      device('p1').applied(),
      device('p1').verified(),
      HP.succeeded('pilot', 'p1'),
      at(hours(5 * 24 - 1)),
      device('p2').applied(),
      device('p3').applied(),
    )
      .when(hours(5 * 24 + 1))
      .tick()
      .then('rollout/HP-2026-02@6: RolloutHalted', 'device/p1@6: RollbackStarted', 'device/p2@5: RollbackStarted', 'device/p3@5: RollbackStarted');
    expect(tick.result).toMatchObject({ halted: 1, rollbacks: 3 });
    expect(tick.events(1)[0]!.data).toEqual({ patch: 'HP-2026-02', reason: 'rollout HP-2026-02 halted: pilot: gate not passed by its deadline' });
    // The halt watches its ring's devices from now on, so that later reports and ticks look at them alone.
    expect(tick.decided.memory.watching('HP-2026-02')).toBe(true);
  });

  it('given a stage the store says was recorded before (the device moved on since), it does not apply nor instruct that device', () => {
    given(...pilot('p1', 'p2'), HP.planned())
      .when(RELEASED, { answers: new Map([[1, { kind: 'duplicate' }]]) })
      .tick()
      .then('rollout/HP-2026-02@1: RingStarted', 'device/p1@2: PatchStaged', 'device/p2@2: PatchStaged', 'device/p2@3: PatchApplyStarted', 'rollout/HP-2026-02@2: DeviceInstructed');
  });
  it('gives a device that joined a ring in its turn nothing of the turn once the ring is accounted for (its size was taken at its start); the catch-up gives it the release once the gate passed', () => {
    // p1 and p2 were the pilot ring when it started (2 devices) and are instructed; p3 enrols into pilot afterwards.
    const joined = [...pilot('p1', 'p2'), HP.planned(), ...instructedAtRelease('p1', 'p2'), at(hours(0.5)), device('p1').applied(), device('p2').applied(), ...pilot('p3')];
    // Before: p3 was staged and applying with the rollout's instruction refused (the ring full), a step without its
    // instruction that verify reports as INSTRUCTION_GAP.
    given(...joined).when(hours(2)).tick().then();
    // A turn not yet full takes it: the ring's count is what the machine keeps (here two at its start, one of them
    // gone since, say, so p3 takes its place).
    given(...pilot('p1'), HP.planned(), HP.ringStarted('pilot', RELEASED, 2), device('p1').staged(), device('p1').applying(), HP.instructed('pilot', 'p1'), at(hours(0.25)), ...pilot('p3'))
      .when(hours(0.5))
      .tick()
      .then('device/p3@2: PatchStaged', 'device/p3@3: PatchApplyStarted', 'rollout/HP-2026-02@3: DeviceInstructed');
    // Once the gate passed, the catch-up gives p3 the release the ring proved.
    const proven = [...joined, ...['p1', 'p2'].map((id) => device(id).verified()), HP.succeeded('pilot', 'p1'), HP.succeeded('pilot', 'p2'), at(hours(26)), HP.gatePassed('pilot', hours(26))];
    given(...proven).when(hours(27)).tick().then('device/p3@2: PatchStaged', 'device/p3@3: PatchApplyStarted');
  });
});
