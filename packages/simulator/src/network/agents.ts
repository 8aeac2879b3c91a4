/**
 * The simulator's device agents over the network: N devices, each with an agent token of its own, enrolled with
 * `hotpatch serve`, each waiting for its next instruction (a long-poll) and answering it with the simulator's one
 * agent and its seeded faults (failed and stalled applies, unwell patches, failed rollbacks, late, duplicated and
 * reordered reports), its delays run `speed` times faster than simulated time. Each device draws from a random of its
 * own (the seed and its id), so a device answers the same way whatever the network's timing.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { seededRandom, type DeviceState } from '@hotpatch/core';
import { timedNameBasedIds } from '@hotpatch/engine';
import type { AgentReport } from '@hotpatch/fleet';
import { deviceAgent, type AgentDevice } from '../agent.js';
import { DEFAULT_FAULTS, faultAnswers, faultDelivery, type Faults } from '../faults.js';
import { buildSimFleet, type SimDevice } from '../fleet.js';
import { expectStatus, serviceClient, ServiceCallError, ServiceUnreachableError, sleep } from './client.js';

const reportIds = timedNameBasedIds('7d0c5f1e-2b9a-4e63-8f47-0a1b2c3d4e5f');

export interface NetworkAgentsOptions {
  readonly server: string;
  /** An operator's or a tenant admin's token: it issues each device's agent token (POST /v1/tokens). */
  readonly token: string;
  readonly devices: number;
  readonly seed: number;
  /** Simulated time passes this many times faster than real time (as the server's `--speed`); default 1. */
  readonly speed?: number;
  /** The tenant the devices join (default: the token's own, or the default tenant). */
  readonly tenant?: string;
  /** The policy's rings, first the pilot (default: pilot, broad — the default policy's). */
  readonly rings?: readonly string[];
  /** The baseline the devices run (default B-2026-12). */
  readonly baseline?: string;
  /** Plan a hotpatch release of that baseline at the service's time, once every device is enrolled (needs an operator's token). */
  readonly plan?: boolean;
  readonly faults?: Faults;
  /** How many times each call is tried while the service answers 502–504 or not at all (default 8: about 11 s). */
  readonly attempts?: number;
  /** Seconds each long-poll waits (default 30). */
  readonly wait?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Readonly<AgentsProgress>) => void;
  /**
   * The speed of the service's clock, measured once the devices are enrolled (its time read twice, at least a second
   * apart): a service run faster than `speed` times out what these agents answer in time.
   */
  readonly onServiceSpeed?: (speed: number) => void;
}

export interface AgentsProgress {
  enrolled: number;
  instructions: number;
  reports: Record<'recorded' | 'duplicate' | 'refused' | 'lost', number>;
  /** Calls that failed after every retry (the service away for long), by device. */
  errors: number;
  /** The rollout planned, if any. */
  rollout?: string;
}

/** The device state an instruction stands for, as much of it as the agent reads. */
function deviceOf(instruction: Instruction): AgentDevice {
  const context = {
    inFlight: instruction.patch !== undefined ? { patch: instruction.patch } : null,
    baseline: instruction.baseline ?? null,
    rebootBaseline: instruction.baseline ?? null,
    rebootReason: instruction.reason ?? null,
  };
  return { id: instruction.device, version: instruction.version, state: { value: instruction.state, context } as unknown as DeviceState };
}

interface Instruction {
  readonly device: string;
  readonly version: number;
  readonly state: string;
  readonly patch?: string;
  readonly baseline?: string;
  readonly reason?: string;
}

/** Runs `work` over `items`, at most `width` at a time. */
async function eachLimited<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const deviceSeed = (seed: number, device: string) => createHash('sha256').update(`${seed}|${device}`).digest().readUInt32LE(0);

interface Started {
  readonly simNow: () => number;
  readonly tokens: ReadonlyMap<string, string>;
}

/** Runs the agents until the signal aborts; resolves with what they did. */
export async function runNetworkAgents(options: NetworkAgentsOptions): Promise<AgentsProgress> {
  const speed = options.speed ?? 1;
  const wait = options.wait ?? 30;
  const faults = options.faults ?? DEFAULT_FAULTS;
  const baseline = options.baseline ?? 'B-2026-12';
  // One signal for every device's calls and waits, each listener on it removed when done: thousands at once are
  // expected here (Node warns past 1,500 on one signal), so its bound is lifted — on a signal of its own, not the caller's.
  const stopped = new AbortController();
  setMaxListeners(0, stopped.signal);
  if (options.signal?.aborted) stopped.abort();
  else options.signal?.addEventListener('abort', () => stopped.abort(), { once: true });
  const signal = stopped.signal;
  const client = serviceClient({ server: options.server, signal, ...(options.attempts !== undefined ? { attempts: options.attempts } : {}) });
  const progress: AgentsProgress = { enrolled: 0, instructions: 0, reports: { recorded: 0, duplicate: 0, refused: 0, lost: 0 }, errors: 0 };
  const tell = () => options.onProgress?.(progress);
  const fleet = buildSimFleet(options.devices, options.rings ?? ['pilot', 'broad'], seededRandom(options.seed));
  // Stopped before the agents run (while enrolling, --seconds or SIGINT): what they did so far, not an error.
  let started: Started;
  try {
    started = await setUp();
  } catch (error) {
    if (signal.aborted) return progress;
    throw error;
  }
  const { simNow, tokens } = started;
  const pending = new Set<Promise<void>>();
  await Promise.all(fleet.map((d) => runAgent(d, tokens.get(d.id)!)));
  await Promise.allSettled([...pending]);
  return progress;

  async function setUp(): Promise<Started> {
    // Simulated time: the service's, read once (GET /healthz), moving `speed` times faster from then on.
    const serviceTime = async () => {
      const asked = Date.now();
      const health = expectStatus(await client.call('GET', '/healthz', options.token), 'GET', '/healthz', 200) as { time?: string };
      return { at: (asked + Date.now()) / 2, time: health.time };
    };
    const health = await serviceTime();
    const startedAt = Date.now();
    const startSim = health.time !== undefined ? Date.parse(health.time) : startedAt;
    const simNow = () => startSim + (Date.now() - startedAt) * speed;

    const tokens = new Map<string, string>();
    await eachLimited(fleet, 16, async (d) => {
      const body = { role: 'agent', device: d.id, ...(options.tenant !== undefined ? { tenant: options.tenant } : {}) };
      const issued = expectStatus(await client.call('POST', '/v1/tokens', options.token, body), 'POST', '/v1/tokens', 201) as { token: string };
      tokens.set(d.id, issued.token);
      const enrolled = await client.call('PUT', `/v1/devices/${encodeURIComponent(d.id)}`, issued.token, { ...d.profile, ring: d.ring, baseline });
      // The service holds another enrolment of this device: a device's profile and ring come from the seed and the count.
      if (enrolled.status === 409) throw new ServiceCallError('PUT', `/v1/devices/${d.id}`, 409, `${d.id} is enrolled with another profile, ring or baseline (agents run before against this service with another --seed, --devices, --rings or --baseline?): its enrolment stands; use another --tenant, or the same options`);
      expectStatus(enrolled, 'PUT', `/v1/devices/${d.id}`, 200, 201);
      progress.enrolled++;
    });
    tell();
    if (options.onServiceSpeed !== undefined && health.time !== undefined) {
      await sleep(1_000 - (Date.now() - health.at), signal);
      const again = await serviceTime();
      if (!signal.aborted && again.time !== undefined) options.onServiceSpeed((Date.parse(again.time) - startSim) / (again.at - health.at));
    }
    if (options.plan) {
      const releasedAt = new Date(simNow()).toISOString();
      const release = { id: `HP-${releasedAt.slice(0, 10)}`, kind: 'hotpatch', releasedAt, baseline, liveRevert: true };
      progress.rollout = (expectStatus(await client.call('POST', '/v1/rollouts', options.token, release), 'POST', '/v1/rollouts', 201) as { rollout: string }).rollout;
      tell();
    }
    return { simNow, tokens };
  }

  async function runAgent(device: SimDevice, token: string): Promise<void> {
    const random = seededRandom(deviceSeed(options.seed, device.id));
    const agent = deviceAgent(
      faultAnswers({ faults, random, updateRandom: seededRandom(deviceSeed(options.seed + 1, device.id)), badHotpatch: undefined, badUpdate: undefined, reportId: (d, now, r) => reportIds(now, `${d.id}|${d.version}|${r.kind}`) }),
      faultDelivery({ faults, random, silentFrom: new Map(), silentUntil: new Map() }),
    );
    const send = (at: number, report: AgentReport) => {
      // The wait ends when the agents stop (the report then counts as lost): a health report is hours away at --speed 1.
      const delivery = sleep(Math.max(0, (at - simNow()) / speed), signal).then(() => deliver(report, token));
      pending.add(delivery);
      void delivery.finally(() => pending.delete(delivery));
    };
    let after = 0;
    while (!signal.aborted) {
      const path = `/v1/devices/${encodeURIComponent(device.id)}/instructions?wait=${wait}&after=${after}`;
      try {
        const answer = await client.call('GET', path, token);
        if (answer.status === 204) continue;
        const instruction = expectStatus(answer, 'GET', path, 200) as Instruction;
        after = instruction.version;
        progress.instructions++;
        agent(deviceOf(instruction), simNow(), send);
      } catch (error) {
        if (signal.aborted) break;
        if (!(error instanceof ServiceCallError || error instanceof ServiceUnreachableError)) throw error;
        progress.errors++;
        await sleep(1_000, signal);
      }
    }
  }

  async function deliver(report: AgentReport, token: string): Promise<void> {
    // As a real agent keeps what it has to report until the service takes it: a service away for longer than a call's
    // retries (restarted, its database away) gets the report, with the same id, once it is back.
    for (;;) {
      if (signal.aborted) return void (progress.reports.lost++, tell());
      try {
        const answer = await client.call('POST', '/v1/reports', token, report);
        if (answer.status === 200) progress.reports[(answer.body as { status: 'recorded' | 'duplicate' }).status]++;
        else progress.reports.refused++;
        return tell();
      } catch (error) {
        if (!(error instanceof ServiceUnreachableError)) return void (progress.reports.lost++, tell());
        progress.errors++;
        await sleep(1_000, signal);
      }
    }
  }
}

