/**
 * The orchestrator's shell, the I/O around its pure decisions: each report, tick or plan reads the log, decides, commits
 * the steps in one store transaction where the store groups writes, then applies what the store recorded.
 */
import { clockTime, CommandRefusedError, deviceStream, EnvironmentError, ringLifecycle, type RingEventBody, type RingState, type RolloutEventBody, type RolloutState } from '@hotpatch/core';
import { CommandIdReusedError, createEngine, streamOf, type CommandResult, type Known, type RingCommand, type RolloutCommand } from '@hotpatch/engine';
import { inBatch, type Fence, type RecordedEvent } from '@hotpatch/store';
import { catchUpProjection, FleetProjection, restoreSavedProjection } from '../projection.js';
import { emptySummary, UnknownRingError, UnknownRolloutError, type AgentReport, type Orchestrator, type OrchestratorOptions, type ReportResult, type TickSummary } from './api.js';
import { decidePlan } from './decide-plan.js';
import { decideReport } from './decide-report.js';
import { decideTick, type TickPace } from './decide-tick.js';
import type { Answer, Decided, DecisionInput, Step } from './decision.js';
import { emptyMemory } from './memory.js';
import { checkOptions } from './options-schema.js';
import { checkReport } from './report-schema.js';
import { Releases } from './release.js';

/** Runs tasks one at a time, in call order: a unit decides on a projection no other unit of the instance moves. */
function serially(): <T>(task: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = last.then(task, task);
    last = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };
}

/** At most this many reports in one unit of work. */
const GROUP_LIMIT = 256;

/** A step's command id: with its kind, what a decision made again must take again in the same place. */
const stepId = (step: Step) => (step.kind === 'append' ? step.intent.command.id : step.command.id);

/** The streams a decision's steps append to. */
const appendStreams = (steps: readonly (Step | undefined)[]): string[] => steps.flatMap((step) => (step?.kind === 'append' ? [step.intent.stream] : []));

/** A step as the store took it (see commit). */
type Taken = { readonly events: readonly RecordedEvent[]; readonly answer?: Answer };

const asCommitted = (r: CommandResult<unknown>): Taken =>
  r.duplicate
    ? { events: [], answer: { kind: 'duplicate' } }
    : // Another writer came first: decided again on the stream's fresh state.
      r.attempts > 1
      ? { events: r.events, answer: { kind: 'written', events: r.events, after: { state: r.state, version: r.version } } }
      : { events: r.events };

/** A step's command refused on its stream's fresh state: answered so; anything else thrown. */
const refusal = (error: unknown): Taken => {
  if (error instanceof CommandRefusedError) return { events: [], answer: { kind: 'refused', reason: error.reason } };
  throw error;
};

/**
 * An append's refusal, or an id of the orchestrator's own (derived from what the step means: `ring:pilot`,
 * `outcome:p1`) held by another event: another instance recorded that step first, as it decided it (at its time, with
 * its outcome). Not this unit's to write: refused, and the projection reads the log's (an agent's id reused, in a
 * lookup, is the agent's error: thrown).
 */
const appendRefusal = (error: unknown): Taken => (error instanceof CommandIdReusedError ? { events: [], answer: { kind: 'refused', reason: error.message } } : refusal(error));

export function createOrchestrator(options: OrchestratorOptions): Orchestrator {
  checkOptions(options);
  const { store, clock, policy, checkpoint } = options;
  const checkpointEvery = checkpoint?.every ?? 100_000;
  const projection = new FleetProjection();
  const engine = createEngine({ store, clock: () => clock.now(), ...(options.meta ? { meta: options.meta } : {}), maxAttempts: 10 });
  const batchSize = options.batchSize ?? 10_000;
  const unitInstructions = options.instructionsPerUnit ?? 250;
  /** What the instance keeps besides the projection. */
  const state = {
    releases: new Releases(),
    memory: emptyMemory(),
    /** Whether the saved projection was looked for since the projection was last empty. */
    loaded: false,
    /** The position of the last projection saved or loaded. */
    savedAt: 0,
  };
  const serial = serially();

  const syncNow = async () => {
    if (!state.loaded && checkpoint !== undefined && projection.position === 0) {
      state.loaded = true;
      // A projection saved by another format or other machines is not trusted: the log is read from the start.
      if ((await restoreSavedProjection(projection, store, checkpoint.name)) === 'restored') state.savedAt = projection.position;
    }
    await catchUpProjection(projection, store, batchSize);
    state.releases.learn(projection);
  };

  const save = async (): Promise<boolean> => {
    if (checkpoint === undefined) return false;
    await store.saveProjection(checkpoint.name, projection.position, projection.serialize());
    state.savedAt = projection.position;
    return true;
  };

  /** Whether a lookup of the last unit found its stream ahead of the projection (another writer's events, unread). */
  let lagging = false;

  const lookUp = async (step: Extract<Step, { kind: 'lookup' }>): Promise<Taken> => {
    // Refused on the projection: a retry of a command recorded before, or a command another writer's events (not read
    // yet) make valid: the engine looks for it, and decides it again on the stream as the log holds it now (read by
    // the engine: given the projection's state, it would only be refused once more before the read).
    try {
      const r = await engine.execute(step.command, step.meta !== undefined ? { meta: step.meta } : {});
      if (r.duplicate) return { events: [], answer: { kind: 'duplicate' } };
      lagging = true;
      return { events: r.events, answer: { kind: 'written', events: r.events, after: { state: r.state, version: r.version } } };
    } catch (error) {
      if (error instanceof CommandRefusedError && (await store.streamVersion(streamOf(step.command))) > step.known.version) lagging = true;
      throw error;
    }
  };

  /**
   * Commits a decision's steps in order. Where the store answers otherwise than decided, the decision is made again
   * with the answer (on the same view: the steps before it are the same, and are not committed twice). `hinted`: the
   * store was told already which streams the unit appends to (a group of reports names its members' devices).
   */
  const commit = async <R>(decide: (input: DecisionInput) => Decided<R>, hinted = false) => {
    /** Made at the first answer (seldom: another writer came first, or a retry). */
    let answers: Map<number, Answer> | undefined;
    const recorded: RecordedEvent[] = [];
    /** The steps committed, by their kinds and command ids (compared only when a decision is made again). */
    const committed: { readonly kinds: Step['kind'][]; readonly ids: string[] } = { kinds: [], ids: [] };
    const input: DecisionInput = { view: projection, releases: state.releases, policy, now: clockTime(clock.now(), "the orchestrator's clock"), memory: state.memory, ...(options.meta ? { meta: options.meta } : {}) };
    for (;;) {
      const decided = decide(answers === undefined ? input : { ...input, answers });
      const steps: (Step | undefined)[] = decided.steps;
      if (answers !== undefined && committed.ids.some((id, i) => steps[i] === undefined || steps[i]!.kind !== committed.kinds[i] || stepId(steps[i]!) !== id)) {
        throw new Error('orchestrator: a decision made again changed the steps it had taken');
      }
      // The streams this unit appends to, told to the store before the first append: where it reads each head in a
      // round trip of its own (PostgreSQL), it reads them all in one. A decision made again appends to the same ones.
      if (!hinted && answers === undefined && store.willAppend !== undefined && steps.length > 1) {
        const streams = appendStreams(steps);
        if (streams.length > 1) await store.willAppend(streams);
      }
      let answered = false;
      while (!answered && committed.ids.length < steps.length) {
        const step = steps[committed.ids.length]!;
        // Let go once taken: a tick's unit decides hundreds of steps, and all of them held to the unit's end outlived
        // V8's young collections (promoted, to be collected by the costly full ones). What is kept is what was recorded.
        steps[committed.ids.length] = undefined;
        // One step, committed: the events the store recorded, and its answer where it did not go as decided. An
        // append's promise (the engine's, carried on from the store's) is awaited here, with none of the step's own:
        // every step of every unit comes here.
        let taken: Taken | undefined;
        if (step.kind === 'lookup') taken = await lookUp(step).catch(refusal);
        else {
          let result: CommandResult<unknown> | undefined;
          try {
            result = await engine.commit(step.intent);
          } catch (error) {
            taken = appendRefusal(error);
          }
          taken ??= asCommitted(result!);
        }
        const { events, answer } = taken;
        recorded.push(...events);
        if (answer !== undefined) {
          (answers ??= new Map()).set(committed.ids.length, answer);
          answered = true;
        }
        committed.kinds.push(step.kind);
        committed.ids.push(stepId(step));
      }
      if (!answered) return { decided, recorded, asDecided: answers === undefined };
    }
  };

  /** Brings the projection up to what a unit recorded: applied as recorded when it follows the projection directly. */
  /** Undefined when applied in place (most units: nothing to wait for), else the catch-up read to wait for. */
  const take = (recorded: readonly RecordedEvent[], asDecided: boolean): Promise<void> | undefined => {
    if (asDecided && recorded.every((e, i) => e.position === projection.position + 1 + i)) {
      for (const e of recorded) projection.apply(e);
      state.releases.learn(projection);
      return undefined;
    }
    return syncNow();
  };

  /** A unit of work: read, decide, commit (one transaction where the store groups writes), take in what was recorded. */
  type After<R> = { readonly save: boolean; readonly done?: (result: R) => void; readonly fence?: Fence };
  const unit = <R>(decide: (input: DecisionInput) => Decided<R>, after: After<R>) => ordered(() => unitNow(decide, after));
  const unitNow = async <R>(decide: (input: DecisionInput) => Decided<R>, after: After<R>) => {
      lagging = false;
      let taking = false;
      try {
        const { decided, recorded, asDecided } = await inBatch(store, async () => {
          await syncNow();
          return commit(decide);
        }, after.fence);
        after.done?.(decided.result);
        decided.memory.applyTo(state.memory);
        taking = true;
        const reading = take(recorded, asDecided);
        if (reading !== undefined) await reading;
        taking = false;
        if (after.save && checkpoint !== undefined && projection.position - state.savedAt >= checkpointEvery) await save();
        return decided.result;
      } catch (error) {
        await recover(taking);
        throw error;
      }
    };

  /**
   * Reports called while no other task was queued after them share one unit of work: one transaction (one commit, one
   * fsync) for many agents' reports, each decided in call order on the projection as the ones before it left it — the
   * log they write is the one units of their own would write. A group that fails leaves the instance as a restart
   * would (its projection and memory rebuilt from the store), and each of its reports is then decided again alone, so
   * one report's failure is its own.
   */
  type Member = { readonly report: AgentReport; readonly done: (answer: { result: ReportResult; lagged: boolean }) => void; readonly fail: (error: unknown) => void };
  let group: Member[] | undefined;
  /** Any other task closes the open group: what is called after it runs after it. */
  const ordered = <T>(task: () => Promise<T>) => {
    group = undefined;
    return serial(task);
  };
  const inGroup = (report: AgentReport) =>
    new Promise<{ result: ReportResult; lagged: boolean }>((done, fail) => {
      if (group === undefined || group.length >= GROUP_LIMIT) {
        const members: Member[] = (group = []);
        void serial(() => runGroup(members));
      }
      group.push({ report, done, fail });
    });
  const alone = async (m: Member) => {
    let lagged = false;
    try {
      const result = (await unitNow((input) => decideReport(input, m.report), { save: true, done: () => (lagged = lagging) }))!;
      m.done({ result, lagged });
    } catch (error) {
      m.fail(error);
    }
  };
  const runGroup = async (members: Member[]) => {
    // A service under load lets the requests already received reach their report() first: one larger transaction.
    if (options.gatherReports === true) await new Promise<void>((resolve) => setImmediate(resolve));
    if (group === members) group = undefined;
    if (members.length === 1) return alone(members[0]!);
    const answers: { result: ReportResult; lagged: boolean }[] = [];
    let moved = false;
    try {
      await inBatch(store, async () => {
        // The members' devices' streams, told to the store before anything is read (see commit): where the store takes
        // its lock for them (PostgreSQL), the projection then catches up under it, with no read of its own when no
        // other writer appended since, and no member is decided on a log another writer moves meanwhile.
        if (store.willAppend !== undefined) await store.willAppend(members.flatMap((m) => (typeof m.report?.device === 'string' ? [deviceStream(m.report.device)] : [])));
        await syncNow();
        for (const m of members) {
          lagging = false;
          const { decided, recorded, asDecided } = await commit((input) => decideReport(input, m.report), true);
          answers.push({ result: decided.result!, lagged: lagging });
          // From here the projection and the memory run ahead of the commit: a failure rebuilds both.
          moved = true;
          decided.memory.applyTo(state.memory);
          const reading = take(recorded, asDecided);
          if (reading !== undefined) await reading;
        }
      });
    } catch (error) {
      if (moved) {
        state.memory = emptyMemory();
        await recover(true);
      } else await recover(false);
      // The store away (a lost connection, a database that cannot be used) is every member's failure: trying each
      // alone would only fail each in turn while the queue waits.
      if (error instanceof EnvironmentError) return members.forEach((m) => m.fail(error));
      for (const m of members) await alone(m);
      return;
    }
    members.forEach((m, i) => m.done(answers[i]!));
    if (checkpoint !== undefined && projection.position - state.savedAt >= checkpointEvery) await save().catch(() => false);
  };

  /**
   * After a unit failed: a projection that failed while taking in events is rebuilt from the log; otherwise it takes
   * in whatever the store kept of the unit (a store without transactions keeps the steps before the failure).
   */
  const recover = async (rebuild: boolean) => {
    if (rebuild) {
      projection.reset();
      state.loaded = false;
    }
    try {
      await syncNow();
    } catch {
      // The store cannot be read now: the next unit reads the log first, as every unit does.
    }
  };

  /** A person's pause or resume, the rollout's or the ring's: decided on the projection, the lifecycle's refusal thrown as it is. */
  const changeState = async (command: RolloutCommand | RingCommand, known: Known<RolloutState> | Known<RingState>) => {
    try {
      await engine.execute(command, { known });
    } catch (error) {
      throw error instanceof CommandRefusedError && error.refusal !== undefined ? error.refusal : error;
    }
    await syncNow();
  };
  const withId = (id: string | undefined) => (id !== undefined ? { id } : {});

  const pause = (rollout: string, event: RolloutEventBody, id: string | undefined) =>
    ordered(async () => {
      await syncNow();
      const held = projection.rollouts.get(rollout);
      if (held === undefined) throw new UnknownRolloutError(rollout);
      await changeState({ rollout, ...withId(id), event }, { state: held.state, version: held.version });
    });

  /** The rings a pause may name: the policy's, and those devices were enrolled into. */
  const knownRing = (ring: string) => policy.rings.some((r) => r.name === ring) || projection.ringMembers.has(ring);
  const pauseRing = (ring: string, event: RingEventBody, id: string | undefined) =>
    ordered(async () => {
      await syncNow();
      if (!knownRing(ring)) throw new UnknownRingError(ring, policy.rings.map((r) => r.name));
      const held = projection.ringPauses.get(ring);
      await changeState({ ring, ...withId(id), event }, held !== undefined ? { state: held.state, version: held.version } : { state: ringLifecycle.initial as RingState, version: 0 });
    });

  /**
   * The projection lagged the device's stream (another instance's events): the report is decided again on the log as
   * now read, for what follows from it (its outcome, a halt, a restart onto the update) and for a report the lagging
   * view read otherwise (a health report that overtook its apply report). Its commands are duplicates now.
   */
  const decideAgain = async (report: AgentReport, first: ReportResult): Promise<ReportResult> => {
    const again = (await unit((input) => decideReport(input, report), { save: true }))!;
    return first.status === 'ignored' ? again : first;
  };

  return {
    projection,
    engine,
    sync: () => ordered(syncNow),
    saveCheckpoint: () =>
      ordered(async () => {
        await syncNow();
        return save();
      }),
    // The release is kept once its plan is in the log (or matches the log's): memory never differs from the log.
    planRollout: (release) => unit((input) => decidePlan(input, release), { save: false, done: () => state.releases.know(release) }),
    // No async frame on the way of every report: the group's answer carried on.
    report: (report, reportOptions) => {
      if (reportOptions?.checked !== true) {
        try {
          checkReport(report);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return inGroup(report).then(({ result: first, lagged }) => (lagged ? decideAgain(report, first) : first));
    },
    tick: async (tickOptions = {}) => {
      const total = emptySummary();
      let pace: TickPace = { unitInstructions, instructed: new Map() };
      for (;;) {
        // The devices enrolled since the last tick are the tick's to look at (its last unit's catch-up does).
        let enrolled: string[] = [];
        const part = await unit(
          (input) => {
            enrolled = [...input.view.enrolled];
            return decideTick(input, pace);
          },
          { save: true, done: (part) => (part.rest === undefined ? enrolled.forEach((id) => projection.enrolled.delete(id)) : undefined), ...(tickOptions.fence !== undefined ? { fence: tickOptions.fence } : {}) },
        );
        for (const key of Object.keys(total) as (keyof TickSummary)[]) total[key] += part[key];
        if (part.rest === undefined) return total;
        pace = part.rest;
      }
    },
    pause: (rollout, by, reason, id) => pause(rollout, { type: 'RolloutPaused', data: { by, reason } }, id),
    resume: (rollout, by, id) => pause(rollout, { type: 'RolloutResumed', data: { by } }, id),
    pauseRing: (ring, by, reason, id) => pauseRing(ring, { type: 'RingPaused', data: { by, reason } }, id),
    resumeRing: (ring, by, id) => pauseRing(ring, { type: 'RingResumed', data: { by } }, id),
  };
}
