/** Given/when/then specifications of the report decision: the log in, an agent's report, the intents out. */
import { describe, expect, it } from 'vitest';
import { device, given, HOTPATCH, RELEASED, rollout } from './testing/given.js';

const HP = rollout(HOTPATCH);
const REPORT = '0193f2a0-0000-7000-8000-00000000c001';
const later = '2026-02-10T18:00:00.000Z';
/** Pilot devices enrolled, the rollout's pilot ring started, and these devices staged, applying and instructed. */
const applying = (...ids: string[]) => [
  ...ids.flatMap((id) => [device(id).enrolled('pilot'), device(id).assessed()]),
  HP.planned(),
  HP.ringStarted('pilot', RELEASED, ids.length),
  ...ids.flatMap((id) => [device(id).staged(), device(id).applying(), HP.instructed('pilot', id)]),
];

describe('the report decision', () => {
  it('records what the agent says on its device’s stream, with the report’s id, at the version the view has', () => {
    const report = given(...applying('p1'))
      .when(later)
      .report({ id: REPORT, device: 'p1', kind: 'applied', patch: HOTPATCH.id })
      .then('device/p1@4: PatchApplied');
    expect(report.result).toEqual({ status: 'recorded', events: 1 });
    expect(report.events(0)[0]).toMatchObject({ id: REPORT, time: later, data: { patch: HOTPATCH.id } });
  });

  it('takes a health report that overtook the apply report as both, and records the device’s success in its rollout', () => {
    const report = given(...applying('p1'))
      .when(later)
      .report({ id: REPORT, device: 'p1', kind: 'health', patch: HOTPATCH.id, healthy: true })
      .then('device/p1@4: PatchApplied', 'device/p1@5: PatchVerified', 'rollout/HP-2026-02@3: DeviceSucceeded');
    expect(report.result).toEqual({ status: 'recorded', events: 2 });
    // The health command keeps the report's id; the apply it implies gets one derived from it.
    expect(report.events(1)[0]!.id).toBe(REPORT);
    expect(report.events(0)[0]!.id).not.toBe(REPORT);
  });

  it('a failure past the ring’s budget halts the rollout at once, and the halt watches the ring from then on', () => {
    const report = given(...applying('p1', 'p2'), device('p2').applyFailed(), HP.failed('pilot', 'p2'), device('p1').applied())
      .when(later)
      .report({ id: REPORT, device: 'p1', kind: 'health', patch: HOTPATCH.id, healthy: false, signal: 'crash rate' })
      .then('device/p1@5: HealthCheckFailed, RollbackStarted', 'rollout/HP-2026-02@5: DeviceFailed');
    expect(report.events(1)[0]!.data).toEqual({ ring: 'pilot', device: 'p1', reason: 'health-failed' });
    expect(report.decided.memory.watching('HP-2026-02')).toBe(true);
  });

  it('a report its device’s state refuses is looked for in the log: a retry is a duplicate, anything else is ignored', () => {
    const late = { id: REPORT, device: 'p1', kind: 'applied', patch: HOTPATCH.id } as const;
    const verified = [...applying('p1'), device('p1').applied(), device('p1').verified()];
    expect(given(...verified).when(later).report(late).then(`look up ${REPORT}`).result).toBeUndefined();
    expect(given(...verified).when(later, { answers: new Map([[0, { kind: 'duplicate' }]]) }).report(late).result).toEqual({ status: 'duplicate' });
    const ignored = given(...verified).when(later, { answers: new Map([[0, { kind: 'refused', reason: 'not applying' }]]) }).report(late);
    expect(ignored.result).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/PatchApplied refused in state 'verified'/) });
  });

  it('ignores a report from a device the log does not know', () => {
    expect(given().when(later).report({ id: REPORT, device: 'ghost', kind: 'applied', patch: HOTPATCH.id }).then().result).toEqual({ status: 'ignored', reason: 'unknown device ghost' });
  });
});
