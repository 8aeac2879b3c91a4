/**
 * The service behind the routes: the store observed (appends wake waiters and count in the metrics), the
 * orchestrator of each tenant ticking on a timer on the service's clock, tokens, and an orderly stop (the last tick
 * finished, waiters answered, the checkpoint saved). It does not open or close the store: whoever gave it does.
 */
import { EnvironmentError, HotpatchError } from '@hotpatch/core';
import { errorFields } from './problem.js';
import { createOrchestrator, DEFAULT_POLICY, type Clock, type FleetPolicy } from '@hotpatch/fleet';
import { LeaseLostError, scopeStore, type EventStore } from '@hotpatch/store';
import { Changes, observeStore } from './changes.js';
import { serviceClock, type ClockLine, type ServiceClock } from './service-clock.js';
import { followLog, type LogFollower } from './follow-log.js';
import { afterCheckpoints, ServiceSeals, type ServiceSealKey } from './seals.js';
import { ServiceMetrics } from './metrics.js';
import { DEFAULT_TENANT, Tenants, type Tenant } from './tenants.js';
import { anyToken, issueToken } from './tokens.js';
import { orchestratorLease, tickGrant, type OrchestrationKeeper, type OrchestrationKeeperFactory } from './orchestration-leases.js';
import { ReportThread, ReportThreadUnavailableError, type ReportThreadOptions } from './report-thread.js';

export interface ServiceLog {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ServiceOptions {
  /** The store, open for writing; the service never closes it. */
  readonly store: EventStore;
  /** What the store is, as its problems name it when it cannot serve (`hotpatch serve`: its --store, password masked). Default "the event store". */
  readonly storeName?: string;
  readonly policy?: FleetPolicy;
  /** The service's clock (default: the system clock, run `speed` times faster from the start, from the log's latest time when later: service-clock.ts). */
  readonly clock?: Clock;
  /** The clock's speed when no clock is given: 3600 lives an hour each second (default 1). */
  readonly speed?: number;
  /** Between the end of a tick and the start of the next, in real milliseconds (default 1000); 0: no timer (tests tick by hand). */
  readonly tickIntervalMs?: number;
  /**
   * While someone waits (a long-poll, a live tail), the longest before appends by other processes wake them, in ms
   * (default 1000; over PostgreSQL their NOTIFY wakes them at once). See follow-log.ts.
   */
  readonly followPollMs?: number;
  /** The name the orchestrator saves its projection under (default "hotpatch-serve"). */
  readonly checkpoint?: string;
  /** Recorded on every event the service writes (default { source: "hotpatch-serve" }). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /**
   * Seal the log with this key (docs/events.md "Seals: the log signed"): after each checkpoint saved, every
   * `everyMs` real milliseconds (default 60,000; 0: only those), and at stop after the last checkpoint. No seals without.
   */
  readonly seal?: { readonly key: ServiceSealKey; readonly everyMs?: number };
  /**
   * The secret mixed into each named tenant's id mask (scopeStore's `idKey`): the same for the life of the store, on
   * every instance over it. Without it, a tenant's mask is computed from its name alone (as the CLI's `--tenant`).
   */
  readonly idKey?: string | Buffer;
  /**
   * Several instances over one store (PostgreSQL): makes the lease keeper that spreads the tenants' orchestration
   * (leases `orchestrator/<tenant>`) over the live instances; this instance ticks only the tenants it holds, each
   * under its lease as fence. Without it, the instance ticks every tenant (alone on its store).
   */
  readonly orchestrationLeases?: OrchestrationKeeperFactory;
  /**
   * Agents' reports decided and committed in a worker thread with a connection of its own to the store (see
   * report-thread.ts): the thread serving HTTP keeps the rest. Needs the service's own clock (`speed`, not `clock`).
   */
  readonly reportThread?: ReportThreadOptions;
}

/** A service option that cannot be honoured as given (a report thread with a clock of the caller's own). */
export class ServiceOptionsError extends HotpatchError {
  readonly code = 'SERVICE_OPTIONS';
}

export class HotpatchService {
  readonly changes = new Changes();
  readonly store: EventStore;
  readonly storeName: string;
  readonly clock: Clock;
  readonly tenants: Tenants;
  readonly metrics: ServiceMetrics;
  readonly meta: Readonly<Record<string, unknown>>;
  private readonly tickIntervalMs: number;
  private readonly followPollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private log: ServiceLog = { info: () => {}, error: () => {} };
  /** The log's seals, when the service was given a key. */
  readonly seals: ServiceSeals | undefined;
  private readonly sealEveryMs: number;
  /** The keeper of the tenants' orchestration leases, over a store shared by several instances. */
  readonly keeper: OrchestrationKeeper | undefined;

  /** Saves the clock's reading for other instances (a sped-up clock of serviceClock's). */
  private readonly refreshClock: (() => Promise<void>) | undefined;

  private constructor(options: ServiceOptions & { readonly clock: ServiceClock }) {
    this.store = observeStore(options.seal ? afterCheckpoints(options.store, () => this.seals?.soon('checkpoint')) : options.store, this.changes);
    this.storeName = options.storeName ?? 'the event store';
    this.clock = options.clock;
    this.refreshClock = options.clock.refresh;
    this.clockLine = options.clock.line;
    this.clockBehind = options.clock.behind;
    this.seals = options.seal && new ServiceSeals(this.store, options.seal.key, { clock: () => this.clock.now(), meta: options.meta ?? { source: 'hotpatch-serve' }, log: () => this.log });
    this.sealEveryMs = options.seal?.everyMs ?? 60_000;
    this.tickIntervalMs = options.tickIntervalMs ?? 1000;
    this.followPollMs = options.followPollMs ?? 1000;
    this.meta = options.meta ?? { source: 'hotpatch-serve' };
    this.metrics = new ServiceMetrics(() => this.lag());
    this.changes.also(this.metrics);
    this.keeper = options.orchestrationLeases?.(() => this.made.map((t) => orchestratorLease(t.name)));
    if (this.keeper !== undefined) this.metrics.leasesHeld(() => this.keeper!.held().length);
    // Each tenant on its view of the store (the default tenant's: the streams without a prefix), made on first use.
    this.tenants = new Tenants(this.store, async (name) => {
      const store = scopeStore(this.store, name === DEFAULT_TENANT ? undefined : name, options.idKey !== undefined ? { idKey: options.idKey } : {});
      const orchestrator = createOrchestrator({ store, clock: this.clock, policy: options.policy ?? DEFAULT_POLICY, meta: this.meta, checkpoint: { name: options.checkpoint ?? 'hotpatch-serve' }, gatherReports: true });
      await orchestrator.sync();
      this.made.push({ name, store, orchestrator });
      return { name, store, orchestrator };
    });
  }

  /** The log's latest event when it is ahead of the service's clock at speed 1 (an earlier run with a speed wrote it). */
  readonly clockBehind: ServiceClock['behind'];
  /** The service's own clock as a line (speed, real start, its time then), for the report thread's copy of it. */
  private readonly clockLine: ClockLine | undefined;
  /** The report thread, when the service was given one (`reportThread`). */
  reports: ReportThread | undefined;

  /** The tenants made so far, in the order they were made (the default first). */
  private readonly made: Tenant[] = [];

  /** A service over the store, the default tenant's projection caught up with the log (from its checkpoint when there is one). */
  static async open(options: ServiceOptions): Promise<HotpatchService> {
    if (options.reportThread !== undefined && options.clock !== undefined) throw new ServiceOptionsError('reportThread: the report thread keeps the service\'s own clock (speed), not a clock given as an object; leave one of them out');
    const clock = options.clock ?? (await serviceClock(options.store, options.speed ?? 1));
    const service = new HotpatchService({ ...options, clock });
    await service.tenants.get(DEFAULT_TENANT);
    if (options.reportThread !== undefined) {
      service.reports = await ReportThread.start(
        {
          openStore: options.reportThread.openStore,
          policy: options.policy ?? DEFAULT_POLICY,
          meta: service.meta,
          checkpoint: options.checkpoint,
          idKey: options.idKey,
          clock: service.clockLine!,
        },
        // Woken and counted; the worker's projection took them in: no lag of this one.
        { appended: (streams, events, lastPosition, ms) => service.changes.appendedAside(streams, events, lastPosition, ms) },
        // Said once, when it happens: the reports it held answer 503 (REPORT_THREAD_UNAVAILABLE), the next starts another.
        (why, error) => service.log.error({ why, ...(error !== undefined ? { err: error } : {}) }, 'the report thread stopped: the reports it held answer 503, the next report starts another (after a wait when workers keep dying soon after their start)'),
      );
    }
    return service;
  }

  /** The default tenant. */
  get defaultTenant(): Tenant {
    return this.made[0]!;
  }

  /** Events between the projection and the last position this instance wrote (0 when caught up). */
  lag(): number {
    return Math.max(0, this.changes.lastPosition - Math.min(...this.made.map((t) => t.orchestrator.projection.position)));
  }

  /** On a store without any token, issues an operator token and returns its text (to be shown once); otherwise undefined. */
  async firstOperatorToken(): Promise<string | undefined> {
    if (await anyToken(this.store)) return undefined;
    return (await issueToken(this.store, { role: 'operator' }, { ...this.meta, first: true })).token;
  }

  private follower: LogFollower | undefined;

  /** Starts the ticks (each tenant's orchestrator, one tick at a time) and the log's follower, logging to `log`. */
  start(log?: ServiceLog): void {
    if (log) this.log = log;
    if (!this.stopped && this.follower === undefined) {
      this.follower = followLog(this.store, this.changes, {
        pollMs: this.followPollMs,
        known: () => Math.max(this.changes.lastPosition, ...this.made.map((t) => t.orchestrator.projection.position)),
        failed: (error) => {
          if (!this.storeFailed(error, 'follow')) this.log.error({ err: error }, 'the log not followed');
        },
      });
    }
    if (!this.stopped) this.keeper?.start();
    if (this.tickIntervalMs > 0 && !this.stopped) this.schedule();
    if (!this.stopped) this.seals?.every(this.sealEveryMs);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.ticking = this.tickOnce().finally(() => {
        this.ticking = undefined;
        if (!this.stopped) this.schedule();
      });
    }, this.tickIntervalMs);
  }

  /**
   * One tick of every known tenant's orchestrator this instance orchestrates (all of them alone; those whose lease it
   * holds, under it as fence, beside other instances); a tenant new in the log is made first. A failure (the lease
   * lost mid-tick among them) is logged and counted, and the next tick carries on.
   */
  async tickOnce(): Promise<void> {
    let tenants: Tenant[];
    try {
      tenants = await this.tenants.every();
      this.storeServes();
    } catch (error) {
      this.metrics.tickFailures.inc();
      // The store away: every tenant's tick would fail on it too; said once (storeFailed), tried again next tick.
      if (this.storeFailed(error, 'tick')) return;
      this.log.error({ err: error }, 'tenants not read');
      tenants = [...this.made];
    }
    // The clock's reading for the instances that start meanwhile: one not saved now is saved at the next tick; its
    // failure (the write lock held a moment by another process) is no tick's and no outage of the store's.
    await this.refreshClock?.().catch(() => undefined);
    for (const tenant of tenants) {
      const grant = tickGrant(this.keeper, tenant.name);
      if (grant === undefined) continue;
      const end = this.metrics.ticks.startTimer();
      try {
        const summary = await tenant.orchestrator.tick(grant);
        if (Object.values(summary).some((n) => n > 0)) this.log.info({ tenant: tenant.name, tick: summary, at: this.clock.now().toISOString() }, 'tick');
      } catch (error) {
        this.metrics.tickFailures.inc();
        if (error instanceof LeaseLostError) this.log.info({ tenant: tenant.name, lease: error.lease }, 'tick refused: the lease moved to another instance');
        else if (!this.storeFailed(error, 'tick')) this.log.error({ err: error, tenant: tenant.name }, 'tick failed');
      } finally {
        end();
      }
    }
  }

  /** Whether the service can serve: the store answers a read now. Throws the store's error when it cannot. */
  async readiness(): Promise<{ readonly position: number; readonly lag: number }> {
    const tenant = this.defaultTenant;
    try {
      await this.store.readAll({ fromPosition: tenant.orchestrator.projection.position + 1, limit: 1 });
    } catch (error) {
      this.storeFailed(error, 'readiness');
      throw error;
    }
    this.storeServes();
    return { position: tenant.orchestrator.projection.position, lag: this.lag() };
  }

  private storeAway = false;

  /**
   * Whether `error` is the store's environment failing (the database away, busy, closed): then the outage is logged
   * once, when it begins (the requests answer 503, the ticks wait), not at each of the hundreds of calls it fails,
   * and `hotpatch_store_available` says 0 until the store serves again.
   */
  storeFailed(error: unknown, during: string): boolean {
    // The report thread away is the service's own outage (logged by it when it died), not the store's.
    if (!(error instanceof EnvironmentError) || error instanceof ReportThreadUnavailableError) return false;
    if (!this.storeAway) {
      this.storeAway = true;
      this.metrics.storeAvailable.set(0);
      this.log.error({ store: this.storeName, during, problem: error.code, detail: error.message }, 'the store cannot serve: calls that need it answer 503 and the ticks wait until it is back');
    }
    return true;
  }

  /** The store served a call: an outage logged by storeFailed is over. */
  storeServes(): void {
    if (!this.storeAway) return;
    this.storeAway = false;
    this.metrics.storeAvailable.set(1);
    this.log.info({ store: this.storeName }, 'the store serves again');
  }

  /** Stops ticking (the tick under way finishes), answers every waiter, saves each orchestrator's checkpoint, then seals the log. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    this.changes.close();
    // The reports it holds answered (the server's close waited for the requests in flight), its store closed: the
    // checkpoints below catch up with what it wrote, and the seal covers it.
    await this.reports?.stop();
    await this.follower?.stop();
    for (const tenant of this.made) {
      try {
        await tenant.orchestrator.saveCheckpoint();
        this.log.info({ tenant: tenant.name, position: tenant.orchestrator.projection.position }, 'checkpoint saved');
      } catch (error) {
        this.log.error({ ...errorFields(error), tenant: tenant.name }, 'checkpoint not saved');
      }
    }
    await this.seals?.stop();
    try {
      await this.keeper?.stop();
    } catch (error) {
      this.log.error(errorFields(error), 'leases not released');
    }
  }
}
