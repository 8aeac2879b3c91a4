/**
 * The command layer: commands in, events out, over any event store. It loads a device's stream, decides, and
 * appends with the version it read; a concurrent writer makes the append fail with a version conflict, and the
 * command is decided again on the fresh state. A command carrying an id is recorded at most once.
 */
import { CommandRefusedError, decide, deviceStream, HotpatchError, type DeviceCommand, type DeviceState } from '@hotpatch/core';
import { WrongExpectedVersionError, type EventStore, type RecordedEvent } from '@hotpatch/store';
import { v7 as uuidv7 } from 'uuid';
import { eventIdFor } from './ids.js';

/** Events read at a time after a retried command's first one (a command records a handful). */
const FOLLOWING_READ = 8;

export interface EngineOptions {
  readonly store: EventStore;
  /** The clock that stamps events (default: the system clock). Simulations pass their own. */
  readonly clock?: () => Date;
  /** Generates ids for commands that carry none (default: UUID v7). */
  readonly newId?: () => string;
  /** How many times a command is decided again after a version conflict before giving up (default 5). */
  readonly maxAttempts?: number;
  /** Metadata recorded on every event (who or what issued the command, a correlation id…). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface CommandResult {
  readonly stream: string;
  /** The events the command recorded (on a retry of a recorded command: the ones recorded the first time). */
  readonly events: RecordedEvent[];
  /** The device's state after them. */
  readonly state: DeviceState;
  readonly version: number;
  /** True when the command had been recorded before and nothing new was written. */
  readonly duplicate: boolean;
  /** How many attempts it took (1 unless writers raced). */
  readonly attempts: number;
}

export interface LoadedDevice {
  readonly state: DeviceState;
  readonly version: number;
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

export interface ExecuteOptions {
  /** Metadata recorded on this command's events, besides the engine's own. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /**
   * The device's state and version as the caller already knows them (from a projection of the log), so that the
   * first attempt decides without reading the store. Safe if stale: the append is made at that version, and a
   * conflict makes the engine read the device and decide again.
   */
  readonly known?: LoadedDevice;
}

export interface Engine {
  execute(command: DeviceCommand, options?: ExecuteOptions): Promise<CommandResult>;
  load(device: string): Promise<LoadedDevice>;
}

export function createEngine(options: EngineOptions): Engine {
  const { store } = options;
  const clock = options.clock ?? (() => new Date());
  const newId = options.newId ?? uuidv7;
  const maxAttempts = options.maxAttempts ?? 5;

  const load = async (device: string): Promise<LoadedDevice> => {
    const { state, version } = await store.readState(deviceStream(device));
    return { state: state as DeviceState, version };
  };

  /**
   * The events a command with this id recorded before, if any (read only when a retry is suspected). A command's
   * events went in by one append, so they are contiguous, and the first carries the command's id: found by id, then
   * the few after it, never the whole stream (a device's history grows with every month).
   */
  const recordedBefore = async (stream: string, commandId: string): Promise<RecordedEvent[]> => {
    const first = await store.readEvent(stream, eventIdFor(commandId, 0));
    if (first === undefined || first.meta?.command !== commandId) return [];
    const recorded = [first];
    for (;;) {
      const next = await store.readStream(stream, { fromVersion: recorded[recorded.length - 1]!.version + 1, limit: FOLLOWING_READ });
      let i = 0;
      while (i < next.length && next[i]!.meta?.command === commandId) recorded.push(next[i++]!);
      if (i < FOLLOWING_READ) return recorded;
    }
  };

  const execute = async (command: DeviceCommand, executeOptions: ExecuteOptions = {}): Promise<CommandResult> => {
    const stream = deviceStream(command.device);
    const commandId = command.id ?? newId();
    let lastConflict: WrongExpectedVersionError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const { state, version } = attempt === 1 && executeOptions.known !== undefined ? executeOptions.known : await load(command.device);
      let decision: ReturnType<typeof decide>;
      try {
        decision = decide(state, command);
      } catch (error) {
        // A retried command whose events are already recorded is refused by the state they led to: answer with
        // what was recorded the first time instead.
        if (command.id !== undefined && error instanceof CommandRefusedError) {
          const recorded = await recordedBefore(stream, commandId);
          if (recorded.length > 0) return { stream, events: recorded, state, version, duplicate: true, attempts: attempt };
        }
        throw error;
      }
      const time = clock().toISOString();
      const meta = { ...options.meta, ...executeOptions.meta, command: commandId, commandType: command.type };
      const newEvents = decision.events.map((event, index) => ({ id: eventIdFor(commandId, index), type: event.type, time, data: event.data, meta }));
      try {
        const result = await store.appendToStream(stream, newEvents, { expectedVersion: version === 0 ? 'no_stream' : version });
        const events = [...result.events];
        const after = result.written ? decision.state : (await load(command.device)).state;
        return { stream, events, state: after, version: result.written ? result.nextExpectedVersion : (await store.streamVersion(stream)), duplicate: !result.written, attempts: attempt };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        lastConflict = error;
      }
    }
    throw new ConcurrencyExhaustedError(stream, maxAttempts, lastConflict!);
  };

  return { execute, load };
}
