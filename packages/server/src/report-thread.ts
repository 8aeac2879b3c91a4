/**
 * Agents' reports decided and committed in a worker thread of their own (`ServiceOptions.reportThread`), beside the
 * thread that serves HTTP. On a machine with a core to spare, the report's decision, its events and its commit (about
 * two thirds of a report's CPU, and the COMMIT's wait on the disk) no longer hold the thread that parses requests,
 * checks tokens and answers everything else.
 *
 * The worker is a second writer over the same store, as a second instance is over PostgreSQL: its own connection, its
 * own orchestrator per tenant (no ticks: this thread keeps those), each report's unit of work under the store's
 * concurrency control, the projection caught up with the log before each group of reports is decided. What it appends
 * is told to this thread (the waiters woken, the metrics counted) before the report's answer. A report's refusal or
 * failure comes back as the error it was (its code, its fields; an environment error stays one: 503).
 *
 * The worker opens its own store: `openStore.module` exports `openStore(argument)` (an ES module, resolvable from
 * the worker: an absolute path or URL), called with `openStore.argument` (anything structured clone copies).
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { EnvironmentError, HotpatchError } from '@hotpatch/core';
import type { AgentReport, FleetPolicy, ReportResult } from '@hotpatch/fleet';
import type { AppendObserver } from './changes.js';
import { fieldsOf } from './problem.js';
import type { ClockLine } from './service-clock.js';

export interface ReportThreadOptions {
  /** How the worker opens its connection to the service's store. */
  readonly openStore: { readonly module: string; readonly argument?: unknown };
}

/** What the worker is given (workerData). */
export interface ReportThreadData {
  readonly openStore: ReportThreadOptions['openStore'];
  readonly policy: FleetPolicy;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly checkpoint: string | undefined;
  readonly idKey: string | Buffer | undefined;
  /** The service's clock: `speed` times real time since `from` (ms since the epoch), reading `at` then (service-clock.ts). */
  readonly clock: ClockLine;
}

/** An error as it crosses from the worker: enough to make it again on this side. */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly environment?: boolean;
  readonly fields?: Record<string, unknown>;
}

export type ReportThreadMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly error: ThreadError }
  | { readonly kind: 'appended'; readonly streams: readonly string[]; readonly events: number; readonly lastPosition: number; readonly ms: number }
  | { readonly kind: 'answer'; readonly id: number; readonly result?: ReportResult; readonly error?: ThreadError }
  | { readonly kind: 'stopped' };

/**
 * A library error decided in the report thread, as this thread's error handler reads one (its code, fields and
 * message), of the kind it was: an environment error (the database away, the disk full) stays one, answered 503.
 */
const revived = (Base: abstract new (message: string) => HotpatchError) =>
  class extends Base {
    constructor(
      readonly code: string,
      message: string,
      private readonly remoteName: string,
    ) {
      super(message);
    }
    override get name(): string {
      return this.remoteName;
    }
  };
const ReportThreadError = revived(HotpatchError);
const ReportThreadEnvironmentError = revived(EnvironmentError);

/** The report thread gone (it crashed, or the service is stopping): reports answer 503 until it is back. */
export class ReportThreadUnavailableError extends EnvironmentError {
  readonly code = 'REPORT_THREAD_UNAVAILABLE';
}

/** The error `e` names, made again on this side of the thread. */
export function reviveError(e: ThreadError): Error {
  if (e.code === undefined) {
    const error = new Error(e.message);
    error.name = e.name;
    return error;
  }
  const error = e.environment === true ? new ReportThreadEnvironmentError(e.code, e.message, e.name) : new ReportThreadError(e.code, e.message, e.name);
  for (const [key, value] of Object.entries(e.fields ?? {})) if (!(key in error)) Object.defineProperty(error, key, { value, enumerable: true });
  return error;
}

/** The error `error` is, as it can cross to the other thread (its plain fields only). */
export function threadError(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  if (!(error instanceof HotpatchError)) return { name: error.name, message: error.message };
  // The fields a problem would carry (problem.ts): what the serving thread's problem of it will name.
  return { name: error.name, message: error.message, code: error.code, environment: error instanceof EnvironmentError, fields: fieldsOf(error) };
}

/** The built worker's entry (the package's export), or undefined when the package is run unbuilt. */
function workerEntry(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@hotpatch/server/report-thread-worker');
  } catch {
    return undefined;
  }
}

export class ReportThreadNotBuiltError extends HotpatchError {
  readonly code = 'REPORT_THREAD_NOT_BUILT';
  constructor() {
    super('the report thread needs @hotpatch/server built (its dist/report-thread-worker.js): run the build first, or serve without it');
  }
}

/**
 * A worker up this long before it died (counted from its 'ready', not its start: a start that restores a large
 * projection can take longer) is restarted at the next report, whatever happened before it.
 */
const STEADY_MS = 60_000;

/**
 * How long the next start waits after `failures` workers in a row failed to start or died within STEADY_MS of being
 * up: the first at once, then 0.5 s, 1 s, 2 s… up to 30 s (a worker that cannot live, say out of memory as it
 * restores the projection, is not started again at every report, each start costing a projection's restore).
 */
export const restartDelayMs = (failures: number): number => (failures <= 1 ? 0 : Math.min(30_000, 500 * 2 ** (failures - 2)));

/** Told when a worker that was up dies before the service stops it (once per worker, with its error when it threw). */
export type ReportThreadDied = (why: string, error?: Error) => void;

/**
 * The worker and its calls. A worker that dies (a crash, an out-of-memory) fails the reports it held with 503, and
 * the next report starts another — at once, unless workers keep dying soon after their start (restartDelayMs): then
 * reports are 503 until the delay has passed; its death is told to `died` (the service logs it: no report need be in
 * flight).
 */
export class ReportThread {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  /** The reports each worker holds: a late exit of a dead worker fails only its own, never its successor's. */
  private readonly pending = new Map<Worker, Map<number, { ok: (r: ReportResult) => void; fail: (e: Error) => void }>>();
  private next = 0;
  private stopping = false;
  /** Workers in a row that failed to start or died within STEADY_MS of being up (see restartDelayMs). */
  private failures = 0;
  /** No worker is started before this time (ms since the epoch). */
  private notBefore = 0;
  private startingWorker: Worker | undefined;
  /** A worker has been up: a start that fails now is a restart's. */
  private everUp = false;

  private constructor(
    private readonly data: ReportThreadData,
    private readonly observer: AppendObserver,
    private readonly entry: string,
    private readonly died: ReportThreadDied,
  ) {}

  /** The worker started, its store open and its default tenant caught up; rejects with the worker's error when it cannot. */
  static async start(data: ReportThreadData, observer: AppendObserver, died: ReportThreadDied = () => {}): Promise<ReportThread> {
    const entry = workerEntry();
    if (entry === undefined) throw new ReportThreadNotBuiltError();
    const thread = new ReportThread(data, observer, entry, died);
    await thread.ready();
    return thread;
  }

  private ready(): Promise<Worker> {
    if (this.worker !== undefined) return Promise.resolve(this.worker);
    this.starting ??= new Promise<Worker>((resolve, reject) => {
      // The built JavaScript as it is, without this thread's flags (a test runner's loaders).
      const worker = new Worker(this.entry, { workerData: this.data, execArgv: [] });
      const calls = new Map<number, { ok: (r: ReportResult) => void; fail: (e: Error) => void }>();
      this.pending.set(worker, calls);
      let up = false;
      /** When it said 'ready' (ms since the epoch). */
      let upAt = 0;
      let counted = false;
      this.startingWorker = worker;
      /** This worker's start is over (up, or failed): a later start is another's (a late exit must not end it). */
      const startEnded = () => {
        if (this.startingWorker !== worker) return;
        this.startingWorker = undefined;
        this.starting = undefined;
      };
      /** This worker's death or failed start, counted once (a 'failed', an 'error', an 'exit'). */
      const countDeath = () => {
        if (counted || this.stopping) return;
        counted = true;
        const now = Date.now();
        this.failures = up && now - upAt >= STEADY_MS ? 1 : this.failures + 1;
        this.notBefore = now + restartDelayMs(this.failures);
      };
      worker.on('message', (m: ReportThreadMessage) => {
        switch (m.kind) {
          case 'ready':
            up = true;
            upAt = Date.now();
            this.everUp = true;
            this.worker = worker;
            startEnded();
            return resolve(worker);
          case 'failed': {
            // At the service's start its error stops the start; later (a worker started again), a report's answer:
            // the store away stays its 503, anything else is the report thread's outage (503), not a fault (500).
            // Counted now (the worker's exit comes after), so that the next report waits for the next start.
            countDeath();
            startEnded();
            const error = reviveError(m.error);
            // A restart that fails is told as a death is (logged once a try: the tries are spaced out, see above).
            if (this.everUp && !this.stopping) this.died(`it did not start again: ${error.message}`, error);
            return reject(this.everUp && !(error instanceof EnvironmentError) ? new ReportThreadUnavailableError(`the report thread did not start again: ${error.message}`) : error);
          }
          case 'appended':
            return this.observer.appended(m.streams, m.events, m.lastPosition, m.ms);
          case 'answer': {
            const call = calls.get(m.id);
            if (call === undefined) return;
            calls.delete(m.id);
            return m.error !== undefined ? call.fail(reviveError(m.error)) : call.ok(m.result!);
          }
          case 'stopped':
            return;
        }
      });
      let told = false;
      const gone = (why: string, error?: Error) => {
        if (this.worker === worker) this.worker = undefined;
        countDeath();
        if (up && !told && !this.stopping) {
          told = true;
          this.died(why, error);
        }
        if (!up) {
          startEnded();
          reject(new ReportThreadUnavailableError(`the report thread did not start: ${why}`));
        }
        const failed = [...calls.values()];
        calls.clear();
        this.pending.delete(worker);
        for (const call of failed) call.fail(new ReportThreadUnavailableError(`the report thread stopped (${why}) before it answered: the report may or may not be recorded; send it again (reports are idempotent by id)`));
      };
      worker.on('error', (error) => gone(error.message, error));
      worker.on('exit', (code) => gone(`exit code ${code}`));
    });
    return this.starting;
  }

  /** The report decided and committed in the worker, for the tenant named. */
  report(tenant: string, report: AgentReport): Promise<ReportResult> {
    if (this.stopping) return Promise.reject(new ReportThreadUnavailableError('the service is stopping: reports are no longer taken'));
    const worker = this.worker;
    if (worker === undefined) {
      const wait = this.notBefore - Date.now();
      if (wait > 0 && this.starting === undefined) {
        return Promise.reject(
          // Not "all within a minute": the first of them may have run longer (the count restarts at 1 there). None starts
          // by itself: the first report after the wait starts it.
          new ReportThreadUnavailableError(`the report thread keeps stopping soon after its start (${this.failures} in a row): another is started at the first report in ${Math.ceil(wait / 1000)} s; send the report again then (reports are idempotent by id)`),
        );
      }
      return this.ready().then(() => this.report(tenant, report));
    }
    return new Promise<ReportResult>((ok, fail) => {
      const id = this.next++;
      this.pending.get(worker)!.set(id, { ok, fail });
      worker.postMessage({ id, tenant, report });
    });
  }

  /** Stops the worker once the reports it holds are answered; its store closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.starting?.catch(() => undefined);
    const worker = this.worker;
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('stop');
    });
  }
}
