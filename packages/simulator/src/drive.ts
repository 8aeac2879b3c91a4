// A patching service on a simulated clock: the orchestrator hour by hour, each release planned when it ships, and
// each device's agent asked what it reports whenever the service changed its device.
import { deviceIdOf } from '@hotpatch/core';
import { inBatch, type EventStore, type RecordedEvent } from '@hotpatch/store';
import { createOrchestrator, type AgentReport, type FleetPolicy, type FleetProjection, type Orchestrator, type ReleaseToRoll, type SimulatedClock } from '@hotpatch/fleet';
import type { Agent } from './agent.js';
import { tapStore } from './store-tap.js';

export interface DriveOptions {
  readonly store: EventStore;
  readonly policy: FleetPolicy;
  readonly clock: SimulatedClock;
  readonly start: string;
  readonly end: string;
  /** The releases, in the order they ship; each is planned at the first hour at or after it shipped. */
  readonly releases: readonly ReleaseToRoll[];
  readonly agent: Agent;
  /**
   * What people do on the way (a tenant pausing a rollout, say): each runs at its time (ms since the epoch), in
   * time order with the agents' reports; an intervention that throws stops the run.
   */
  readonly interventions?: ReadonlyArray<{ readonly at: number; run(orchestrator: Orchestrator): Promise<void> }>;
  /**
   * Agents that come back after a silence: at its time (ms since the epoch), the device's agent is asked again what
   * it reports from the state the log now gives its device (what it had to say while silent was lost).
   */
  readonly agentsBack?: ReadonlyArray<{ readonly at: number; readonly device: string }>;
  readonly meta?: Readonly<Record<string, unknown>>;
  /** The orchestrator's `instructionsPerUnit` (the log is the same whatever it is). */
  readonly instructionsPerUnit?: number;
  /** Called about once per simulated day. */
  readonly onProgress?: (progress: { readonly at: string; readonly share: number }) => void;
  /** Called with every event of the log, once each, in log order, as the service records it or reads it (see tapStore). */
  readonly onEvent?: (event: RecordedEvent) => void;
}

const HOUR = 3_600_000;

/** Runs the service; returns its projection of the log (the orchestrator and the agenda are garbage then). */
export async function driveService(options: DriveOptions): Promise<FleetProjection> {
  const { store, clock, releases } = options;
  // The devices the service changed (their agents react), seen through the store as its projection applies them.
  const changed = new Set<string>();
  const tapped = tapStore(store, (e) => {
    const device = deviceIdOf(e.stream);
    if (device !== undefined) changed.add(device);
    options.onEvent?.(e);
  });
  const orchestrator = createOrchestrator({
    store: tapped,
    clock,
    policy: options.policy,
    ...(options.meta ? { meta: options.meta } : {}),
    ...(options.instructionsPerUnit !== undefined ? { instructionsPerUnit: options.instructionsPerUnit } : {}),
  });
  const agenda = new Agenda();
  const scheduled = new Map<string, number>();
  const push = (at: number, report: AgentReport) => agenda.push(at, report);

  /** The agent of a device that just changed: what it will report, and when. */
  const react = (id: string, now: number) => {
    const d = orchestrator.projection.devices.get(id);
    if (!d || scheduled.get(id) === d.version) return;
    scheduled.set(id, d.version);
    options.agent(d, now, push);
  };
  const drain = (now: number) => {
    const ids = [...changed];
    changed.clear();
    for (const id of ids) react(id, now);
  };

  await orchestrator.sync();
  changed.clear();
  let nextRelease = 0;
  const interventions = [...(options.interventions ?? [])].sort((a, b) => a.at - b.at);
  let nextIntervention = 0;
  const returns = [...(options.agentsBack ?? [])].sort((a, b) => a.at - b.at || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
  let nextReturn = 0;
  /** An agent back from its silence: asked what it reports now, whether or not its device changed since. */
  const back = (id: string, now: number) => {
    const d = orchestrator.projection.devices.get(id);
    if (!d) return;
    scheduled.set(id, d.version);
    options.agent(d, now, push);
  };
  const first = Date.parse(options.start);
  const last = Date.parse(options.end);
  const span = Math.max(1, last - first);
  // One simulated day is one store transaction where the store groups writes: the service would commit each report
  // and each tick on its own, and the log is the same; grouping a day's work spares rewriting the same index pages
  // hour after hour.
  for (let day = first; day <= last; day += 24 * HOUR) {
    await inBatch(store, async () => {
      for (let t = day; t < day + 24 * HOUR && t <= last; t += HOUR) {
        // Reports due by now, in the order they were sent, and interventions, in time order with them.
        for (;;) {
          const reportAt = agenda.size ? agenda.peek()!.at : Infinity;
          const interventionAt = nextIntervention < interventions.length ? interventions[nextIntervention]!.at : Infinity;
          const returnAt = nextReturn < returns.length ? returns[nextReturn]!.at : Infinity;
          const at = Math.min(reportAt, interventionAt, returnAt);
          if (at > t) break;
          clock.jumpTo(new Date(at).toISOString());
          if (interventionAt === at) await interventions[nextIntervention++]!.run(orchestrator);
          else if (returnAt === at) back(returns[nextReturn++]!.device, at);
          else await orchestrator.report(agenda.pop().report);
          drain(at);
        }
        clock.jumpTo(new Date(t).toISOString());
        while (nextRelease < releases.length && Date.parse(releases[nextRelease]!.releasedAt) <= t) {
          await orchestrator.planRollout(releases[nextRelease]!);
          nextRelease++;
        }
        await orchestrator.tick();
        drain(t);
      }
    });
    options.onProgress?.({ at: new Date(day).toISOString(), share: (day - first) / span });
    await breathe();
  }
  options.onProgress?.({ at: options.end, share: 1 });
  return orchestrator.projection;
}

/** A min-heap of pending agent reports, ordered by time then by scheduling order (deterministic). */
class Agenda {
  private heap: Array<{ at: number; seq: number; report: AgentReport }> = [];
  private seq = 0;
  get size() {
    return this.heap.length;
  }
  push(at: number, report: AgentReport) {
    const h = this.heap;
    h.push({ at, seq: this.seq++, report });
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.less(h[i]!, h[p]!)) {
        [h[i], h[p]] = [h[p]!, h[i]!];
        i = p;
      } else break;
    }
  }
  peek() {
    return this.heap[0];
  }
  pop() {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  private less(a: { at: number; seq: number }, b: { at: number; seq: number }) {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}


/**
 * Lets the event loop turn: a simulation's awaits on an embedded store resolve at once, one after another, and a
 * signal (Ctrl-C), a timer or a worker's message would otherwise wait for the whole run. Once a simulated day.
 */
export const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
