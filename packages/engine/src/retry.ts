/**
 * Telling a retry from another command under a used id. A retry resends the same command, so the events recorded
 * under its id are what it means: compared with what it decides now, without a new field in the log.
 */
import { eventsItMayHaveRecorded, HotpatchError, type DeviceState } from '@hotpatch/core';
import { canonicalJson, type RecordedEvent } from '@hotpatch/store';
import { commandTypeOf, isDeviceCommand, streamOf, type Command, type Known } from './commands.js';

type Body = { readonly type: string; readonly data: unknown };

/** What tells the recorded command from the one sent: its type, the events it means, or their data. */
export type CommandDifference = 'command type' | 'events' | 'data';

/**
 * A command id already recorded for another command (another type, other events, other data): not a retry, so
 * nothing is written. A device's recorded command is judged by the events it may have meant then (see
 * eventsItMayHaveRecorded; an assessment's verdict on the device's current profile and baseline, as the store judges
 * an accepted retry); a rollout's or a ring's by the one event it asked for.
 */
export class CommandIdReusedError extends HotpatchError {
  readonly code = 'COMMAND_ID_REUSED';
  constructor(
    readonly stream: string,
    readonly id: string,
    /** The version of the first event recorded under the id, the command type they were recorded for, and their types. */
    readonly recorded: { readonly version: number; readonly commandType: string | undefined; readonly events: readonly string[] },
    /** The command sent with the id: its type, and the event types it means now. */
    readonly sent: { readonly commandType: string; readonly events: readonly string[] },
    readonly differs: CommandDifference,
  ) {
    const then = `${recorded.commandType ?? 'a command'} (${recorded.events.join(', ')})`;
    const now = differs === 'data' ? `this ${sent.commandType} has other data` : `this ${sent.commandType} means ${sent.events.join(', ') || 'nothing'}`;
    super(`${stream}: command id ${id} was recorded at version ${recorded.version} for ${then}; ${now}: not a retry (a retry resends the same command), so nothing was written`);
  }
}

const sameEvents = (recorded: readonly Body[], meant: readonly Body[]) =>
  recorded.length === meant.length && meant.every((m, i) => recorded[i]!.type === m.type && canonicalJson(recorded[i]!.data) === canonicalJson(m.data));

/**
 * Throws CommandIdReusedError unless `recorded` (the events under the command's id, in order) is what the command
 * means: `known` is its stream's state now, which the state-dependent parts of a device command are judged on.
 */
export function checkRetry(command: Command & { readonly id: string }, recorded: readonly RecordedEvent[], known: Known<unknown>): void {
  const first = recorded[0];
  if (first === undefined) return;
  const commandType = commandTypeOf(command);
  const recordedType = isDeviceCommand(command) ? (first.meta?.commandType as string | undefined) : first.type;
  const meant: readonly Body[][] = isDeviceCommand(command) ? eventsItMayHaveRecorded(known.state as DeviceState, command) : [[command.event]];
  let differs: CommandDifference | undefined;
  if (recordedType !== undefined && recordedType !== commandType) differs = 'command type';
  else if (meant.some((events) => sameEvents(recorded, events))) return;
  else differs = meant.some((events) => events.length === recorded.length && events.every((e, i) => e.type === recorded[i]!.type)) ? 'data' : 'events';
  const stream = streamOf(command);
  throw new CommandIdReusedError(stream, command.id, { version: first.version, commandType: recordedType, events: recorded.map((e) => e.type) }, { commandType, events: meant[0]!.map((e) => e.type) }, differs);
}
