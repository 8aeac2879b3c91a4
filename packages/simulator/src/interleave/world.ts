/**
 * The world a schedule runs in: one store, a small fleet enrolled, the orchestrator instances over it (each through
 * its own gated view), the agents (the simulator's one device agent, its answers drawn from the schedule) and the
 * network (reports sent and not yet acknowledged, delivered in any order, to any instance, again and again).
 */
import type { DeviceProfile } from '@hotpatch/core';
import { createEngine, nameBasedIds, timedNameBasedIds } from '@hotpatch/engine';
import { catchUpProjection, createOrchestrator, FleetProjection, simulatedClock, type AgentReport, type FleetPolicy, type Orchestrator, type ReleaseToRoll, type SimulatedClock } from '@hotpatch/fleet';
import type { EventStore } from '@hotpatch/store';
import { deviceAgent, type AnswerSource } from '../agent.js';
import { Gate, gatedStore, ProcessKilled, type Owner } from './gate.js';

export const RELEASED = '2026-02-10T17:00:00.000Z';
export const RELEASE: ReleaseToRoll = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: RELEASED, baseline: 'B-2026-01', liveRevert: true };
/**
 * Two small rings that finish (or halt) within a simulated day or two: one failure tolerated in each, a gate after an
 * hour's soak, a day's deadline, two devices instructed per tick and one per unit of work (so a tick is several units).
 */
export const POLICY: FleetPolicy = {
  rings: [
    { name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 1 }, deadlineDays: 1 },
    { name: 'broad', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 1 }, deadlineDays: 1 },
  ],
  applyTimeoutMinutes: 60,
  silenceHours: 3,
  maxInstructionsPerTick: 2,
};
export const FLEET: Readonly<Record<string, readonly string[]>> = { pilot: ['p1', 'p2', 'p3'], broad: ['b1', 'b2', 'b3', 'b4'] };
const PROFILE: DeviceProfile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const reportIds = timedNameBasedIds('5b7e1f0a-2c3d-4e5f-8a9b-0c1d2e3f4a5b');
/** The enrolment's command ids, the same every run (so that two runs of one schedule write the same log). */
const enrolIds = nameBasedIds('5b7e1f0a-2c3d-4e5f-8a9b-0c1d2e3f4a5c');

/** Where the schedule's choices come from: the list given, then zeros (the plainest choice: the first of each). */
export class Choices {
  private i = 0;
  constructor(private readonly list: readonly number[]) {}
  get exhausted(): boolean {
    return this.i >= this.list.length;
  }
  get used(): number {
    return Math.min(this.i, this.list.length);
  }
  next(): number {
    return this.i < this.list.length ? this.list[this.i++]! : 0;
  }
}

/** A report sent by an agent, kept until an instance acknowledged it (the agent retries it until then). */
export interface Sent {
  readonly n: number;
  readonly report: AgentReport;
  acked: boolean;
}

export interface Instance {
  readonly owner: Owner;
  readonly o: Orchestrator;
  /** Its calls not answered yet. */
  calls: number;
}

export interface WorldOptions {
  /** How many orchestrator instances (default 2). */
  readonly instances?: number;
  /** The store (default: a fresh in-memory store). */
  readonly store?: EventStore;
  /**
   * The log as committed, for the agents (default: the store): a second handle on the same database where a reader of
   * the store would wait for a transaction open in it (SQLite's batch), which the scheduler may hold open.
   */
  readonly reader?: EventStore;
  /** Builds an instance (default: the orchestrator): a broken variant is given here. */
  readonly orchestrator?: typeof createOrchestrator;
}

export class World {
  readonly gate = new Gate();
  readonly clock: SimulatedClock = simulatedClock(RELEASED);
  readonly instances: Instance[] = [];
  readonly network: Sent[] = [];
  /** The schedule, a line per step, as it ran. */
  readonly schedule: string[] = [];
  /** Calls that failed other than by a crash. */
  readonly failures: string[] = [];
  /** The agents' view of the devices: the log as it is. */
  readonly agentView = new FleetProjection();
  /** Calls started and not settled. */
  pending = 0;
  private readonly asked = new Map<string, number>();
  /** The device version each agent last sent a report about. */
  private readonly answered = new Map<string, number>();
  private readonly generations: number[] = [];
  private readonly make: typeof createOrchestrator;
  private readonly reader: EventStore;

  constructor(
    readonly store: EventStore,
    readonly choices: Choices,
    options: WorldOptions,
  ) {
    this.make = options.orchestrator ?? createOrchestrator;
    this.reader = options.reader ?? store;
    for (let k = 0; k < (options.instances ?? 2); k++) this.instances.push(this.start(k));
  }

  /** Enrols the fleet (outside the gate: it is there before the instances start). */
  async enrol(): Promise<void> {
    const engine = createEngine({ store: this.store, clock: () => this.clock.now() });
    for (const [ring, devices] of Object.entries(FLEET)) {
      for (const device of devices) {
        await engine.execute({ type: 'EnrolDevice', id: enrolIds(`enrol|${device}`), device, profile: PROFILE, ring, baseline: RELEASE.baseline });
        await engine.execute({ type: 'AssessEligibility', id: enrolIds(`assess|${device}`), device, latestBaseline: RELEASE.baseline });
      }
    }
  }

  /** A new instance in slot k: a fresh process over the same store. */
  private start(k: number): Instance {
    const generation = (this.generations[k] = (this.generations[k] ?? -1) + 1);
    const owner: Owner = { name: generation === 0 ? `i${k}` : `i${k}#${generation}`, dead: false };
    const o = this.make({ store: gatedStore(this.store, owner, this.gate), clock: this.clock, policy: POLICY, meta: { instance: owner.name }, instructionsPerUnit: 1 });
    return { owner, o, calls: 0 };
  }

  live(): Instance[] {
    return this.instances.filter((i) => !i.owner.dead);
  }

  restart(k: number): void {
    this.instances[k] = this.start(k);
  }

  /** Starts a call of an instance; a failure that is not the instance's death is recorded. */
  call(instance: Instance, what: string, run: (o: Orchestrator) => Promise<unknown>, answered?: (value: unknown) => void): void {
    instance.calls++;
    this.pending++;
    void run(instance.o)
      .then(
        (value) => answered?.(value),
        (error: unknown) => {
          if (instance.owner.dead || error instanceof ProcessKilled) return;
          this.failures.push(`${instance.owner.name} ${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
        },
      )
      .finally(() => {
        instance.calls--;
        this.pending--;
      });
  }

  deliver(sent: Sent, instance: Instance): void {
    this.call(instance, `report #${sent.n}`, (o) => o.report(sent.report), () => (sent.acked = true));
  }

  /** The agents that said nothing of their device as it is (a stalled apply) will answer when next asked. */
  wakeSilentAgents(): void {
    for (const [device, version] of this.asked) if (this.answered.get(device) !== version) this.asked.delete(device);
  }

  /** Every call has gone as far as it can before a store call parks it (nothing else runs: no timers, no I/O). */
  async quiesce(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.askAgents();
  }

  /** The agents of the devices the log moved since their agent was last asked: what they report goes on the network. */
  private async askAgents(): Promise<void> {
    await catchUpProjection(this.agentView, this.reader);
    const now = this.clock.now().getTime();
    for (const device of this.agentView.devices.values()) {
      if (this.asked.get(device.id) === device.version) continue;
      this.asked.set(device.id, device.version);
      this.agent(device, now, (_, report) => {
        this.answered.set(device.id, device.version);
        const sent = { n: this.network.length, report, acked: false };
        this.network.push(sent);
        this.schedule.push(`  agent ${device.id} sends #${sent.n} ${describeReport(report)}`);
      });
    }
  }

  private readonly answers: AnswerSource = {
    apply: () => {
      const c = this.choices.next() % 16;
      if (c === 14) return { kind: 'apply-failed', after: 0, reason: 'disk full' };
      if (c === 15) return { kind: 'stalled' };
      return { kind: 'applied', after: 0, ...(c === 13 ? { healthFirst: { healthy: true, after: 0, signal: '' } } : {}) };
    },
    health: () => ({ healthy: this.choices.next() % 4 !== 3, after: 0, signal: 'crash rate' }),
    rollback: () => {
      const ok = this.choices.next() % 6 !== 5;
      return { ok, after: 0, reason: ok ? '' : 'file in use' };
    },
    restart: () => ({ after: 0, healthy: this.choices.next() % 6 !== 5, signal: 'boot loop' }),
    reportId: (device, now, body) => reportIds(now, `${device.id}|${device.version}|${body.kind}`),
  };
  private readonly agent = deviceAgent(this.answers);
}

export const describeReport = (r: AgentReport): string =>
  `${r.kind}${'healthy' in r && r.healthy !== undefined ? (r.healthy ? ' healthy' : ' unhealthy') : ''} ${r.device}${'patch' in r ? ` ${r.patch}` : ''}${'baseline' in r ? ` ${r.baseline}` : ''}`;

