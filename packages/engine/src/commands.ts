/**
 * The commands the engine carries: a device's (decided by core's decider), and a rollout's or a ring's, each the one
 * event it asks for, judged by its stream's lifecycle. Either way the lifecycle accepts or refuses; nothing here
 * restates a rule.
 */
import {
  checkDeviceCommand,
  CommandRefusal,
  dataCheckOf,
  describe,
  ID_RULE,
  idProblem as streamIdProblem,
  InvalidCommandError,
  pathWithin,
  RING_STREAMS,
  ROLLOUT_STREAMS,
  decideOrRefuse,
  deviceStream,
  LOWER_UUID_PATTERN,
  lifecycleFor,
  ringStream,
  rolloutStream,
  type DeviceCommand,
  type DeviceState,
  type RingEventBody,
  type RingState,
  type RolloutEventBody,
  type RolloutState,
} from '@hotpatch/core';

/** A command on a rollout's stream (`rollout/<id>`): the event it asks to record. */
export interface RolloutCommand {
  readonly rollout: string;
  /** Idempotency key: the event's id. */
  readonly id?: string;
  readonly event: RolloutEventBody;
}

/** A command on a ring's stream (`ring/<name>`): the event it asks to record. */
export interface RingCommand {
  readonly ring: string;
  readonly id?: string;
  readonly event: RingEventBody;
}

export type Command = DeviceCommand | RolloutCommand | RingCommand;

/** The state of the stream a command is about. */
export type StateOf<C extends Command> = C extends DeviceCommand ? DeviceState : C extends RolloutCommand ? RolloutState : RingState;

/** A stream's state and version as a caller knows them. */
export interface Known<S = unknown> {
  readonly state: S;
  readonly version: number;
}

export const isDeviceCommand = (command: Command): command is DeviceCommand => 'device' in command;

/** The stream a command is about; `onDevice`: whether it is a device's, where the caller has told already. */
export function streamOf(command: Command, onDevice = isDeviceCommand(command)): string {
  if (onDevice) return deviceStream((command as DeviceCommand).device);
  return 'rollout' in command ? rolloutStream((command as RolloutCommand).rollout) : ringStream((command as RingCommand).ring);
}

/** The command's name in a refusal and in its events' meta: a device command's type, else the event it asks for. */
export const commandTypeOf = (command: Command): string => (isDeviceCommand(command) ? command.type : command.event.type);

export interface CommandDecision<S = unknown> {
  readonly events: ReadonlyArray<{ readonly type: string; readonly data: unknown }>;
  /** The stream's state after the events. */
  readonly state: S;
}

/**
 * The events a command means on its stream's known state, or the lifecycle's refusal as a value (no error built: see
 * CommandRefusal).
 */
export function decideCommandOrRefuse<C extends Command>(known: Known<StateOf<C>>, command: C, onDevice = isDeviceCommand(command)): CommandDecision<StateOf<C>> | CommandRefusal {
  if (onDevice) return decideOrRefuse(known.state as DeviceState, command as DeviceCommand) as unknown as CommandDecision<StateOf<C>> | CommandRefusal;
  const other = command as RolloutCommand | RingCommand;
  const stream = streamOf(other, false);
  const lifecycle = lifecycleFor(stream);
  const state = lifecycle.next(known.state as never, other.event);
  if (state !== undefined) return { events: [other.event], state: state as StateOf<C> };
  // Located as the store would locate it: the stream and the version the event would take.
  return new CommandRefusal(other.event.type, stream, lifecycle.refusalReason(known.state as never, other.event), () =>
    lifecycle.refusal(known.state as never, other.event, { stream, version: known.version + 1 }),
  );
}

/** The events a command means on its stream's known state, or a CommandRefusedError naming the lifecycle's refusal. */
export function decideCommand<C extends Command>(known: Known<StateOf<C>>, command: C): CommandDecision<StateOf<C>> {
  const decided = decideCommandOrRefuse(known, command);
  if (decided instanceof CommandRefusal) throw decided.error();
  return decided;
}

const UUID = new RegExp(LOWER_UUID_PATTERN);

/**
 * The value as a command, or InvalidCommandError naming the path of its first problem, before anything is decided:
 * a device's against its schema (DeviceCommandSchema), a rollout's or a ring's by its stream's id, its id and the
 * event asked for (its type one of the stream's, its data that type's schema).
 */
export function checkCommand<C extends Command>(value: C): C {
  // A rollout's or a ring's command asks for an event; anything else is judged as a device's (which has a `ring` field too).
  if (typeof value !== 'object' || value === null || 'device' in value || !('event' in value) || !('rollout' in value || 'ring' in value)) return checkDeviceCommand(value) as C;
  const [key, kind] = 'rollout' in value ? (['rollout', ROLLOUT_STREAMS] as const) : (['ring', RING_STREAMS] as const);
  const command = value as unknown as Record<string, unknown>;
  const event = command.event as { type?: unknown; data?: unknown } | undefined;
  const refuse = (path: string, message: string): never => {
    throw new InvalidCommandError(`${key} command`, path, message);
  };
  const idProblem = streamIdProblem(command[key]);
  if (idProblem !== undefined) refuse(key, `expected ${ID_RULE}, got ${describe(command[key])}${typeof command[key] === 'string' ? `, which ${idProblem}` : ''}`);
  if (command.id !== undefined && !(typeof command.id === 'string' && UUID.test(command.id))) refuse('id', `expected a lower-case UUID, got ${describe(command.id)}`);
  if (typeof event !== 'object' || event === null) return refuse('event', `expected an object {type, data}, got ${describe(event)}`);
  const check = dataCheckOf(kind, event.type);
  if (check === undefined) refuse('event.type', `expected one of ${kind.eventTypes.map((t) => JSON.stringify(t)).join(', ')}, got ${describe(event.type)}`);
  const problem = check!.problem(event.data);
  if (problem !== undefined) refuse(pathWithin('event.data', problem.path), problem.message);
  return value;
}
