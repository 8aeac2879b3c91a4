/**
 * The orchestrator tests' shared fleet: a two-ring policy, seven devices, February's hotpatch, the simulator's
 * device agent answering at once, and the steps most tests start from. Test-only: not built nor published.
 */
import { expect } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { createEngine } from '@hotpatch/engine';
import { createOrchestrator, simulatedClock, type AgentReport, type FleetPolicy, type Orchestrator, type ReleaseToRoll, type SimulatedClock } from '../../index.js';
// The simulator's device agent, by path: its modules import fleet's types only, so no package cycle (see its README).
import { deviceAgent } from '../../../../simulator/src/agent.js';
import { scriptedAnswers } from '../../../../simulator/src/scripted-answers.js';
import { HOTPATCH as hotpatch, POLICY as policy, RELEASED } from './given.js';

// The policy and release of the decisions' given/when/then tests.
export { hotpatch, policy, RELEASED };
export const PILOT = ['p1', 'p2', 'p3'];
export const BROAD = ['b1', 'b2', 'b3', 'b4'];

export async function fleet(store: EventStore, clock: SimulatedClock, ineligible: string[] = []) {
  const engine = createEngine({ store, clock: () => clock.now() });
  for (const [ring, ids] of [['pilot', PILOT], ['broad', BROAD]] as const) {
    for (const device of ids) {
      await engine.execute({ type: 'EnrolDevice', device, profile: ineligible.includes(device) ? { ...eligibleProfile, vbs: false } : eligibleProfile, ring, baseline: 'B-2026-01' });
      await engine.execute({ type: 'AssessEligibility', device, latestBaseline: 'B-2026-01' });
    }
  }
}

let reportSeq = 0;
export const reportId = () => `0193f2a0-0000-7000-8000-${(++reportSeq).toString(16).padStart(12, '0')}`;

/** Simulated agents: each device in flight reports what it did at once; `health` decides its health check. */
export async function agentsRespond(o: Orchestrator, health: (device: string) => boolean = () => true, silent: string[] = [], stalled: string[] = []) {
  const agent = deviceAgent(
    scriptedAnswers({
      apply: (d) => (stalled.includes(d.id) ? { kind: 'stalled' } : { kind: 'applied', after: 0 }),
      health: (d) => ({ healthy: health(d.id), after: 0, signal: 'crash rate' }),
      restart: () => ({ after: 0 }),
      reportId,
    }),
  );
  for (const d of [...o.projection.devices.values()]) {
    if (silent.includes(d.id)) continue;
    const reports: AgentReport[] = [];
    agent(d, 0, (_, report) => reports.push(report));
    for (const report of reports) await o.report(report);
  }
}

export const instructionsIn = async (store: EventStore, stream: string) => (await store.readStream(stream)).filter((e) => e.type === 'DeviceInstructed').map((e) => (e.data as { device: string }).device);

/**
 * A restarted instance carries the rollout on from a first instance that instructed two pilot devices: the third
 * pilot device, the gate, the broad ring; every device instructed once, and the rollout completed.
 */
export async function finishAfterRestart(b: Orchestrator, clock: SimulatedClock, store: EventStore) {
  await b.planRollout(hotpatch); // already planned: nothing written
  expect(await b.tick()).toMatchObject({ instructed: 1 });
  await finishRollout(b, clock);
  expect(b.projection.rollouts.get('HP-2026-02')!.state.value).toBe('completed');
  expect((await instructionsIn(store, 'rollout/HP-2026-02')).sort()).toEqual([...PILOT, ...BROAD].sort());
}

/** Takes the pilot ring of `hotpatch` (instructed) through its soak and gate, then the broad ring to its end. */
export async function finishRollout(b: Orchestrator, clock: SimulatedClock) {
  for (let i = 0; i < 3; i++) await agentsRespond(b);
  clock.advance(25 * 3600);
  await b.tick();
  clock.jumpTo('2026-02-13T17:00:00.000Z');
  await b.tick();
  for (let i = 0; i < 3; i++) await agentsRespond(b);
  clock.advance(25 * 3600);
  await b.tick();
}

/** A fleet, an orchestrator with `rollPolicy`, and `release`'s rollout planned and ticked once (the pilot instructed). */
export async function pilotInstructed(rollPolicy: FleetPolicy = policy, release: ReleaseToRoll = hotpatch) {
  const store = createInMemoryEventStore();
  const clock = simulatedClock(RELEASED);
  await fleet(store, clock);
  const o = createOrchestrator({ store, clock, policy: rollPolicy });
  await o.planRollout(release);
  await o.tick();
  return { store, clock, o };
}
