/**
 * The command layer: commands in, events out, over any event store. A command (a device's, a rollout's or a ring's)
 * is decided on its stream's state and appended with the version it was decided on; a concurrent writer makes the
 * append fail with a version conflict, and the command is decided again on the fresh state. A command carrying an
 * id is recorded at most once.
 */
import { clockTime, CommandRefusal, deviceStream, HotpatchError, type DeviceCommand, type DeviceState } from '@hotpatch/core';
import { EventIdReusedError, IdempotencyConflictError, WrongExpectedVersionError, type AppendResult, type EventStore, type NewEvent, type RecordedEvent } from '@hotpatch/store';
import { v7 as uuidv7 } from 'uuid';
import { checkCommand, decideCommandOrRefuse, isDeviceCommand, streamOf, type Command, type Known, type StateOf } from './commands.js';
import { eventIdFor } from './ids.js';
import { checkEngineOptions } from './options.js';
import { createTurns } from './turns.js';
import { checkRetry } from './retry.js';

/**
 * How long a command that lost a conflict holds its stream's turn at the most (see turns.ts): far more than a read
 * and an append take, yet short for a turn that would otherwise wait on its own next in line.
 */
const TURN_HOLD_MS = 2_000;

/** Events read at a time after a retried command's first one (a command records a handful). */
const FOLLOWING_READ = 8;

type Meta = Readonly<Record<string, unknown>>;
type WithId<C extends Command> = C & { readonly id: string };

export interface EngineOptions {
  readonly store: EventStore;
  /** The clock that stamps events (default: the system clock). Simulations pass their own. */
  readonly clock?: () => Date;
  /** Generates ids for commands that carry none (default: UUID v7). */
  readonly newId?: () => string;
  /** How many times a command is decided again after a version conflict before giving up (default 5). */
  readonly maxAttempts?: number;
  /** Metadata recorded on every event (who or what issued the command, a correlation id…). */
  readonly meta?: Meta;
}

export interface CommandResult<S = DeviceState> {
  readonly stream: string;
  /** The events the command recorded (on a retry of a recorded command: the ones recorded the first time). */
  readonly events: RecordedEvent[];
  /** The stream's state after them. */
  readonly state: S;
  readonly version: number;
  /** True when the command had been recorded before and nothing new was written. */
  readonly duplicate: boolean;
  /** How many attempts it took (1 unless writers raced). */
  readonly attempts: number;
}

export type LoadedDevice = Known<DeviceState>;

/**
 * What a command means on a known state, before anything is written: the events to append (ids derived from the
 * command's, its time, its meta) and the version they were decided on, which the append expects.
 */
export interface Intent<C extends Command = Command> {
  readonly stream: string;
  readonly command: WithId<C>;
  readonly expectedVersion: number;
  readonly events: readonly NewEvent[];
  /** The stream's state after the events. */
  readonly state: StateOf<C>;
  readonly time: string;
  /** The caller's meta (a device command's events add the command's id and type to it). */
  readonly meta: Meta | undefined;
}

/**
 * Decides a command on a known state of its stream, without any I/O: the intent to append, or the lifecycle's refusal
 * as a value (no error built: see CommandRefusal). A device command's events carry its id and type in their meta (how
 * a retry is recognised); a rollout's or a ring's carry the caller's meta only, and the command's id as the event's.
 */
export function intentOrRefusal<C extends Command>(known: Known<StateOf<C>>, command: WithId<C>, time: string, meta?: Meta): Intent<C> | CommandRefusal {
  // Told apart once: `in` on commands of many shapes is a slow (megamorphic) look-up, and every step comes here.
  const onDevice = isDeviceCommand(command);
  const decision = decideCommandOrRefuse(known, command, onDevice);
  if (decision instanceof CommandRefusal) return decision;
  const eventMeta = onDevice ? { ...meta, command: command.id, commandType: (command as DeviceCommand).type } : meta;
  const events = decision.events.map((event, index) =>
    eventMeta !== undefined ? { id: eventIdFor(command.id, index), type: event.type, time, data: event.data, meta: eventMeta } : { id: eventIdFor(command.id, index), type: event.type, time, data: event.data },
  );
  return { stream: streamOf(command, onDevice), command, expectedVersion: known.version, events, state: decision.state, time, meta };
}

/** The intent a command means on a known state (see intentOrRefusal), or a CommandRefusedError. */
export function intentFor<C extends Command>(known: Known<StateOf<C>>, command: WithId<C>, time: string, meta?: Meta): Intent<C> {
  const decided = intentOrRefusal(known, command, time, meta);
  if (decided instanceof CommandRefusal) throw decided.error();
  return decided;
}

/** Version conflicts persisted through every attempt. */
export class ConcurrencyExhaustedError extends HotpatchError {
  readonly code = 'CONCURRENCY_EXHAUSTED';
  constructor(
    readonly stream: string,
    readonly attempts: number,
    readonly last: WrongExpectedVersionError,
  ) {
    super(`${stream}: still conflicting after ${attempts} attempts (${last.message})`);
  }
}

export interface ExecuteOptions<S = DeviceState> {
  /** Metadata recorded on this command's events, besides the engine's own. */
  readonly meta?: Meta;
  /**
   * The stream's state and version as the caller already knows them (from a projection of the log), so that the
   * first attempt decides without reading the store. Safe if stale: the append is made at that version, and a
   * conflict makes the engine read the stream and decide again.
   */
  readonly known?: Known<S>;
}

export interface Engine {
  /** Checks the command against its schema (InvalidCommandError, nothing written), decides it and appends its events. */
  execute<C extends Command>(command: C, options?: ExecuteOptions<StateOf<C>>): Promise<CommandResult<StateOf<C>>>;
  /** The intent a command means on a known state (see intentFor), stamped with the engine's clock and meta. */
  decide<C extends Command>(command: C, known: Known<StateOf<C>>, options?: { readonly meta?: Meta }): Intent<C>;
  /**
   * Appends an intent at the version it was decided on. On a version conflict its command is decided again on the
   * fresh state (same id, time and meta); a refusal then is a CommandRefusedError, unless the command was recorded
   * before (a duplicate).
   */
  commit<C extends Command>(intent: Intent<C>): Promise<CommandResult<StateOf<C>>>;
  /**
   * The events a command with this id recorded before (a retry), or none; CommandIdReusedError when the id holds
   * another command's. `known` is the stream's state as the caller knows it (read when not given).
   */
  recorded<C extends Command>(command: WithId<C>, known?: Known<StateOf<C>>): Promise<RecordedEvent[]>;
  load(device: string): Promise<LoadedDevice>;
}

/** Checks the options (InvalidEngineOptionsError naming the first that is not usable) and makes the engine. */
export function createEngine(options: EngineOptions): Engine {
  checkEngineOptions(options);
  const { store } = options;
  const clock = options.clock ?? (() => new Date());
  /** The clock's time, or InvalidClockError before anything is decided. */
  const now = () => clockTime(clock(), "the engine's clock");
  const newId = options.newId ?? uuidv7;
  const maxAttempts = options.maxAttempts ?? 5;
  const turns = createTurns(TURN_HOLD_MS);
  const metaOf = (meta: Meta | undefined): Meta | undefined => (options.meta === undefined && meta === undefined ? undefined : { ...options.meta, ...meta });

  const read = async <S>(stream: string): Promise<Known<S>> => {
    const { state, version } = await store.readState(stream);
    return { state: state as S, version };
  };

  /**
   * The events a command with this id recorded before, if any (read only when a retry is suspected). A device
   * command's events went in by one append, so they are contiguous, and the first carries the command's id: found by
   * id, then the few after it, never the whole stream (a device's history grows with every month). A rollout's or a
   * ring's command recorded one event, with the command's id.
   */
  const recordedUnder = async (command: WithId<Command>): Promise<RecordedEvent[]> => {
    const stream = streamOf(command);
    const first = await store.readEvent(stream, eventIdFor(command.id, 0));
    if (first === undefined) return [];
    if (!isDeviceCommand(command)) return [first];
    if (first.meta?.command !== command.id) return [];
    const events = [first];
    for (;;) {
      const next = await store.readStream(stream, { fromVersion: events[events.length - 1]!.version + 1, limit: FOLLOWING_READ });
      let i = 0;
      while (i < next.length && next[i]!.meta?.command === command.id) events.push(next[i++]!);
      if (i < FOLLOWING_READ) return events;
    }
  };

  /**
   * The events a command with this id recorded before, if any (read only when a retry is suspected), checked to be
   * this command's (see checkRetry). A device command's events went in by one append, so they are contiguous, and
   * the first carries the command's id: found by id, then the few after it, never the whole stream (a device's
   * history grows with every month). A rollout's or a ring's command recorded one event, with the command's id.
   */
  const recorded = async <C extends Command>(command: WithId<C>, known?: Known<StateOf<C>>): Promise<RecordedEvent[]> => {
    const events = await recordedUnder(command);
    if (events.length > 0) checkRetry(command, events, known ?? (await read(streamOf(command))));
    return events;
  };

  /**
   * Appends a decided intent. No async frame on the way most appends take (written as decided: an orchestrator commits
   * every step through here), only the store's promise carried on; a retry's answer is read in `unwritten`.
   */
  const append = <C extends Command>(intent: Intent<C>, attempts: number, conflict?: (error: WrongExpectedVersionError) => Promise<CommandResult<StateOf<C>>>): Promise<CommandResult<StateOf<C>>> => {
    const { stream } = intent;
    let appended: Promise<AppendResult>;
    try {
      appended = store.appendToStream(stream, intent.events, { expectedVersion: intent.expectedVersion === 0 ? 'no_stream' : intent.expectedVersion });
    } catch (error) {
      appended = Promise.reject(error);
    }
    return appended.then(
      (result) => (result.written ? { stream, events: [...result.events], state: intent.state, version: result.nextExpectedVersion, duplicate: false, attempts } : unwritten<StateOf<C>>(stream, result, attempts)),
      (error: unknown) => {
        if (conflict !== undefined && error instanceof WrongExpectedVersionError) return conflict(error);
        // The store holds the command's ids as other events: named as the command it holds (CommandIdReusedError).
        if (error instanceof EventIdReusedError || error instanceof IdempotencyConflictError) return recorded(intent.command).then(() => Promise.reject(error));
        throw error;
      },
    );
  };
  /** An append the store answered with what it held (a retry): the stream's state and version read now. */
  const unwritten = async <S>(stream: string, result: AppendResult, attempts: number): Promise<CommandResult<S>> => {
    const state = (await read<S>(stream)).state;
    const version = await store.streamVersion(stream);
    return { stream, events: [...result.events], state, version, duplicate: true, attempts };
  };

  /**
   * Decides and appends, deciding again on the fresh state after each version conflict. `start.intent` is the first
   * attempt's intent when the caller decided it; `recognise`: whether a refusal may be a retry of a recorded command;
   * `from`: the first attempt made here (2 when the caller's first append lost a conflict).
   */
  const settle = async <C extends Command>(
    command: WithId<C>,
    start: { readonly intent?: Intent<C>; readonly known?: Known<StateOf<C>> },
    time: () => string,
    meta: Meta | undefined,
    recognise: boolean,
    from = 1,
  ): Promise<CommandResult<StateOf<C>>> => {
    const stream = streamOf(command);
    /** Ends this command's turn on its stream, once it lost a conflict and waited for one. */
    let endTurn: (() => void) | undefined;
    try {
      // The caller's first append lost to another writer: this try waits for its turn, as below.
      if (from > 1) endTurn = await turns.take(stream);
      for (let attempt = from; ; attempt++) {
        let intent = attempt === 1 ? start.intent : undefined;
        if (intent === undefined) {
          const callers = attempt === 1 && start.known !== undefined;
          const known = callers ? start.known! : await read<StateOf<C>>(stream);
          const decided = intentOrRefusal(known, command, time(), meta);
          if (decided instanceof CommandRefusal) {
            // Refused on the caller's state, which may be stale: decided again on a fresh read, as a conflict would be.
            if (callers) continue;
            // A retried command whose events are already recorded is refused by the state they led to: answer with
            // what was recorded the first time instead.
            if (recognise) {
              const events = await recorded(command, known);
              if (events.length > 0) return { stream, events, state: known.state, version: known.version, duplicate: true, attempts: attempt };
            }
            throw decided.error();
          }
          intent = decided;
        }
        try {
          return await append(intent, attempt);
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          if (attempt >= maxAttempts) throw new ConcurrencyExhaustedError(stream, attempt, error);
        }
        // Lost to another writer: the next try waits for its turn among this engine's callers on the stream.
        endTurn ??= await turns.take(stream);
      }
    } finally {
      endTurn?.();
    }
  };

  return {
    execute: async <C extends Command>(command: C, executeOptions: ExecuteOptions<StateOf<C>> = {}) =>
      settle({ ...checkCommand(command), id: command.id ?? newId() }, executeOptions.known !== undefined ? { known: executeOptions.known } : {}, now, metaOf(executeOptions.meta), command.id !== undefined),
    decide: (command, known, decideOptions = {}) => intentFor(known, { ...checkCommand(command), id: command.id ?? newId() }, now(), metaOf(decideOptions.meta)),
    // The first append made directly (an orchestrator commits every step through here), settle's loop only after a conflict.
    commit: (intent) =>
      append(intent, 1, (error) => {
        if (maxAttempts <= 1) throw new ConcurrencyExhaustedError(intent.stream, 1, error);
        return settle(intent.command, {}, () => intent.time, intent.meta, true, 2);
      }),
    recorded,
    load: (device) => read<DeviceState>(deviceStream(device)),
  };
}
