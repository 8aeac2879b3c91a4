/** What the orchestrator takes and gives: agents' reports, tick summaries, its options, its interface, its errors. */
import { HotpatchError } from '@hotpatch/core';
import type { Engine } from '@hotpatch/engine';
import type { EventStore, Fence } from '@hotpatch/store';
import type { Clock } from '../clock.js';
import type { FleetPolicy } from '../policy.js';
import type { FleetProjection } from '../projection.js';
import type { ReleaseToRoll } from './release.js';

import type { AgentReport } from './report-schema.js';

export type { AgentReport };

export type ReportResult =
  | { readonly status: 'recorded'; readonly events: number }
  | { readonly status: 'duplicate' }
  /** The report no longer matches the device (late, or about a patch no longer in flight): kept out of the log. */
  | { readonly status: 'ignored'; readonly reason: string };

export interface TickSummary {
  ringsStarted: number;
  instructed: number;
  outcomes: number;
  timedOut: number;
  setAside: number;
  gatesPassed: number;
  halted: number;
  rollbacks: number;
  /** Devices that joined after a rollout had passed their ring, given what they missed (see `catchUp`). */
  caughtUp: number;
  /** Instructions a unit of work cut short and this tick carried on (see `orchestrator/decide-heal.ts`). */
  healed: number;
}

export interface OrchestratorOptions {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly policy: FleetPolicy;
  /** Metadata on every event written (which instance, which service…). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Read the log in batches of this many events when catching up (default 10,000). */
  readonly batchSize?: number;
  /**
   * A tick instructs at most this many devices per unit of work (one store transaction where the store groups
   * writes), and goes on in further units: what a unit holds until it commits stays small, and reports are taken
   * between a big ring's units. With nothing else called meanwhile and one time for the tick (a simulated clock), the
   * log is the same whatever the number (default 250); otherwise a later unit sees what came between, as a later
   * tick would.
   */
  readonly instructionsPerUnit?: number;
  /**
   * Reports called while no other call was queued after them share one unit of work (one transaction where the store
   * groups writes), each decided in call order. With `gatherReports`, a group waits one turn of the event loop before
   * it starts, so that the requests a service has already received join it: fewer, larger transactions under load
   * (on SQLite each commit is an fsync that holds the thread). Default false: a lone caller's report goes at once.
   */
  readonly gatherReports?: boolean;
  /**
   * Keep the projection in the store (`EventStore.saveProjection`) under this name, at the end of a report or a
   * tick once `every` events (default 100,000) came in since the last save: an instance that starts loads it and
   * reads only the log after it, instead of the whole log. Instances over one log may share the name (a projection
   * is a function of the log; the furthest save wins). A save serialises the whole projection, so its cost grows
   * with the fleet (after a year of monthly rollouts, 1.5 to 2.8 KB per device), in parts of about 16 Mi
   * characters (see `FleetProjection.serialize`).
   */
  readonly checkpoint?: { readonly name: string; readonly every?: number };
}

export interface Orchestrator {
  readonly projection: FleetProjection;
  readonly engine: Engine;
  /**
   * Catches the projection up with the log (other writers, other instances); the first time, from the saved
   * projection when there is a usable one (see `checkpoint`).
   */
  sync(): Promise<void>;
  /** Saves the projection now, under the checkpoint's name (on shutdown, say); false when there is no checkpoint. */
  saveCheckpoint(): Promise<boolean>;
  /** Plans a rollout of a release through the policy's rings; returns its id. Planning it again does nothing; with another release, ReleaseConflictError. */
  planRollout(release: ReleaseToRoll): Promise<string>;
  /**
   * Decides an agent's report and records what follows from it. InvalidReportError for a report that is not one,
   * unless `checked` says the caller has checked it against AgentReportSchema already (a service's route, whose body
   * the same schema checked).
   */
  report(report: AgentReport, options?: { readonly checked?: boolean }): Promise<ReportResult>;
  /**
   * Starts rings, instructs, times out, gates, halts, remedies. With a fence (a lease this instance holds: see
   * store-postgres's leases), each of the tick's units commits only while the lease is held at its epoch, so an
   * instance that stalled past its lease writes nothing once another took over (LeaseLostError; the units before
   * stay, as any tick's do).
   */
  tick(options?: { readonly fence?: Fence }): Promise<TickSummary>;
  /**
   * Pauses a rollout on behalf of the service or the tenant (TransitionRefusedError where the rollout cannot be
   * paused: halted, completed). `id`, when given, is the event's id: a retry with the same id records nothing new.
   */
  pause(rollout: string, by: 'service' | 'tenant', reason: string, id?: string): Promise<void>;
  /** Lifts that party's pause (the service cannot lift the tenant's: TransitionRefusedError). `id` as for pause. */
  resume(rollout: string, by: 'service' | 'tenant', id?: string): Promise<void>;
  /**
   * Pauses a ring, whatever the release (Autopatch's ring pause): no rollout starts it or instructs its devices,
   * out-of-band releases included, and the catch-up leaves its devices alone, until every party that paused it
   * has resumed it. What is in flight goes on (reports, timeouts, a halt's rollbacks), and the ring's deadline does
   * not run meanwhile. Recorded in the stream `ring/<name>`; UnknownRingError for a ring neither the policy nor
   * the fleet names. `id` as for pause.
   */
  pauseRing(ring: string, by: 'service' | 'tenant', reason: string, id?: string): Promise<void>;
  /** Lifts that party's pause of the ring (the service cannot lift the tenant's: TransitionRefusedError). */
  resumeRing(ring: string, by: 'service' | 'tenant', id?: string): Promise<void>;
}

/** A tick that has done nothing yet. */
export const emptySummary = (): TickSummary => ({ ringsStarted: 0, instructed: 0, outcomes: 0, timedOut: 0, setAside: 0, gatesPassed: 0, halted: 0, rollbacks: 0, caughtUp: 0, healed: 0 });

export class UnknownRingError extends HotpatchError {
  readonly code = 'UNKNOWN_RING';
  constructor(
    readonly ring: string,
    readonly known: readonly string[],
  ) {
    super(`no ring ${ring} in the policy or the fleet (the policy's rings: ${known.join(', ')})`);
  }
}

export class UnknownRolloutError extends HotpatchError {
  readonly code = 'UNKNOWN_ROLLOUT';
  constructor(readonly rollout: string) {
    super(`no rollout ${rollout}`);
  }
}

/** planRollout with a release whose rollout the log holds with another release: nothing written, nothing kept. */
export class ReleaseConflictError extends HotpatchError {
  readonly code = 'RELEASE_CONFLICT';
  constructor(
    readonly rollout: string,
    /** The first field that differs, and its value in the log's plan and in the release given. */
    readonly field: string,
    readonly planned: unknown,
    readonly given: unknown,
  ) {
    super(`rollout ${rollout} is planned with ${field} ${JSON.stringify(planned)}, not ${JSON.stringify(given)}: a planned rollout's release does not change (plan another release)`);
  }
}
