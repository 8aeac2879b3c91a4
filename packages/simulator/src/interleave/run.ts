/**
 * One run of the interleaving harness: a schedule (a list of numbers) chooses, step by step, which parked store call
 * goes on, which report arrives at which instance (any order, again after it was acknowledged), when an instance
 * ticks, crashes (at a parked call: before or after a write, in the middle of a unit of work) or starts again from
 * the store, and when the clock moves; the agents' outcomes are drawn from it too. When the list runs out, the world
 * settles: no more crashes, every dead instance started again, every report delivered, the agents answering, an hour
 * at a time, until the rollout has ended and nothing moves. Then the log is checked (checks.ts). The same list runs the
 * same way, every time: nothing else decides (no timers, no I/O besides the store, one process).
 */
import { catchUpProjection, FleetProjection } from '@hotpatch/fleet';
import { createInMemoryEventStore } from '@hotpatch/store';
import { checkOnce, checkRollouts, checkSettled, type Violation } from './checks.js';
import { Choices, describeReport, RELEASE, World, type WorldOptions } from './world.js';

export interface RunResult {
  readonly violations: readonly Violation[];
  /** The schedule as it ran, a line per step. */
  readonly schedule: readonly string[];
  /** The choices the run read before it settled. */
  readonly choicesUsed: number;
  readonly events: number;
  readonly crashes: number;
  /** How the rollout ended: `completed`, or `halted in <ring>`. */
  readonly ending: string;
}

/** What a step may do, and how much it weighs in the choice. */
const WEIGHTS = { resume: 40, deliver: 20, tick: 10, clock: 6, restart: 6, crash: 2, again: 3, plan: 1 } as const;
type Kind = keyof typeof WEIGHTS;
/** At most this many calls open on one instance. */
const MAX_CALLS = 3;
/** The settling's limit, in simulated hours. */
const SETTLE_HOURS = 24 * 8;

export async function runSchedule(list: readonly number[], options: WorldOptions = {}): Promise<RunResult> {
  const store = options.store ?? createInMemoryEventStore();
  const world = new World(store, new Choices(list), options);
  const reader = options.reader ?? store;
  await world.enrol();
  let crashes = 0;
  const log = (line: string) => world.schedule.push(line);
  const can = (k: number) => world.instances[k]!.calls < MAX_CALLS && !world.instances[k]!.owner.dead;

  // The rollout is planned first, by the first instance; the schedule may plan it again on any.
  world.call(world.instances[0]!, 'plan', (o) => o.planRollout(RELEASE));
  log(`plan on ${world.instances[0]!.owner.name}`);
  while (!world.choices.exhausted) {
    await world.quiesce();
    if (world.choices.exhausted) break;
    const c = world.choices.next();
    const live = world.instances.map((_, k) => k).filter(can);
    const dead = world.instances.map((_, k) => k).filter((k) => world.instances[k]!.owner.dead);
    const unacked = world.network.filter((s) => !s.acked);
    const acked = world.network.filter((s) => s.acked);
    const counts: Record<Kind, number> = {
      resume: world.gate.parked.length,
      deliver: live.length > 0 ? unacked.length * live.length : 0,
      tick: live.length,
      clock: 1,
      restart: dead.length,
      crash: world.instances.length - dead.length,
      again: live.length > 0 ? acked.length * live.length : 0,
      plan: live.length,
    };
    const kinds = (Object.keys(WEIGHTS) as Kind[]).filter((k) => counts[k] > 0);
    const total = kinds.reduce((n, k) => n + WEIGHTS[k], 0);
    let w = c % total;
    const kind = kinds.find((k) => (w -= WEIGHTS[k]) < 0)!;
    const which = Math.floor(c / total) % counts[kind];
    switch (kind) {
      case 'resume': {
        const p = world.gate.resume(which);
        log(`${p.owner.name} ${p.phase === 'before' ? 'runs' : 'takes the answer of'} ${p.call}`);
        break;
      }
      case 'deliver':
      case 'again': {
        const pool = kind === 'deliver' ? unacked : acked;
        const sent = pool[Math.floor(which / live.length)]!;
        const instance = world.instances[live[which % live.length]!]!;
        log(`report #${sent.n} (${describeReport(sent.report)})${kind === 'again' ? ' again' : ''} → ${instance.owner.name}`);
        world.deliver(sent, instance);
        break;
      }
      case 'tick': {
        const instance = world.instances[live[which]!]!;
        log(`tick on ${instance.owner.name} at ${world.clock.now().toISOString().slice(0, 16)}`);
        world.call(instance, 'tick', (o) => o.tick());
        break;
      }
      case 'plan': {
        const instance = world.instances[live[which]!]!;
        log(`plan on ${instance.owner.name}`);
        world.call(instance, 'plan', (o) => o.planRollout(RELEASE));
        break;
      }
      case 'clock':
        world.clock.advance(30 * 60);
        log(`clock → ${world.clock.now().toISOString().slice(0, 16)}`);
        break;
      case 'restart': {
        const k = dead[which]!;
        world.restart(k);
        log(`restart ${world.instances[k]!.owner.name} from the store`);
        break;
      }
      case 'crash': {
        const instance = world.instances.filter((i) => !i.owner.dead)[which]!;
        const at = world.gate.parked.filter((p) => p.owner === instance.owner).map((p) => `${p.phase} ${p.call}`);
        world.gate.kill(instance.owner);
        crashes++;
        log(`crash ${instance.owner.name}${at.length > 0 ? ` (parked ${at.join('; ')})` : ' (idle)'}`);
        break;
      }
    }
  }
  const choicesUsed = world.choices.used;
  log('— settling: no more crashes, every report delivered, the agents answering —');
  const violations = await settle(world);
  const events = await reader.readAll();
  violations.push(...checkOnce(events), ...checkRollouts(events));
  // Each instance's projection is a fresh fold of the log.
  const fresh = new FleetProjection();
  await catchUpProjection(fresh, reader);
  violations.push(...checkSettled([...fresh.devices.values()], [...fresh.rollouts.values()]));
  for (const instance of world.instances) {
    world.call(instance, 'sync', (o) => o.sync());
    await drain(world);
    if (JSON.stringify(instance.o.projection.serialize()) !== JSON.stringify(fresh.serialize())) violations.push({ check: 'projection', detail: `${instance.owner.name}'s projection differs from a fresh fold of the log` });
  }
  violations.push(...world.failures.map((detail) => ({ check: 'callFailed', detail })));
  const rollout = fresh.rollouts.get(RELEASE.id)?.state;
  const ending = rollout === undefined ? 'unplanned' : rollout.value === 'halted' ? `halted in ${rollout.context.policies[rollout.context.current]?.name}` : rollout.value;
  return { violations, schedule: world.schedule, choicesUsed, events: events.length, crashes, ending };
}

/** Lets every parked call go on, first come first, until no call is open. */
async function drain(world: World): Promise<Violation | undefined> {
  for (;;) {
    await world.quiesce();
    if (world.gate.parked.length === 0) return world.pending === 0 ? undefined : { check: 'settled', detail: `${world.pending} calls wait for nothing the store holds (a deadlock)` };
    world.gate.resume(0);
  }
}

/** The world after the schedule: every instance alive, every report delivered, the agents answering, hour by hour. */
async function settle(world: World): Promise<Violation[]> {
  const stuck = await drain(world);
  if (stuck) return [stuck];
  world.instances.forEach((instance, k) => instance.owner.dead && world.restart(k));
  world.wakeSilentAgents();
  world.call(world.instances[0]!, 'plan', (o) => o.planRollout(RELEASE));
  let last = -1;
  for (let hour = 0; hour < SETTLE_HOURS; hour++) {
    const instance = world.instances[hour % world.instances.length]!;
    for (let sent = world.network.find((s) => !s.acked); sent !== undefined; sent = world.network.find((s) => !s.acked)) {
      world.deliver(sent, instance);
      const stuck = await drain(world);
      if (stuck) return [stuck];
      if (!sent.acked) return [{ check: 'settled', detail: `report #${sent.n} (${describeReport(sent.report)}) not acknowledged by ${instance.owner.name}` }];
    }
    world.call(instance, 'tick', (o) => o.tick());
    const stuck = await drain(world);
    if (stuck) return [stuck];
    const position = world.agentView.position;
    const ended = [...world.agentView.rollouts.values()].every((r) => r.state.value === 'completed' || r.state.value === 'halted');
    if (ended && position === last && world.network.every((s) => s.acked)) break;
    last = position;
    world.clock.advance(3600);
  }
  world.schedule.push(`— settled at ${world.clock.now().toISOString().slice(0, 16)} —`);
  return [];
}
