/**
 * Typed errors. Every error names what was wrong and where, with the data a caller needs to act on it,
 * so that a CLI, a service or a test can explain a refusal without parsing a message.
 */

/** Where an event came from: a line of a file, or a stream and version in a store. */
export interface EventLocation {
  readonly line?: number;
  /** Global position in a store (used where there is no line). */
  readonly position?: number;
  readonly stream?: string;
  readonly version?: number;
  readonly file?: string;
}

export function describeLocation(at: EventLocation): string {
  const parts: string[] = [];
  if (at.file !== undefined) parts.push(at.file);
  if (at.line !== undefined) parts.push(`line ${at.line}`);
  else if (at.position !== undefined) parts.push(`position ${at.position}`);
  if (at.stream !== undefined) parts.push(at.version !== undefined ? `${at.stream}@${at.version}` : at.stream);
  return parts.join(' ') || 'event';
}

export abstract class HotpatchError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * The environment failed, not the input: a file, a disk or a server that could not be used (permissions, a full
 * disk, a lock held too long, a lost connection). The same call may succeed once that is mended; a command line
 * tells it apart from invalid input by its exit code.
 */
export abstract class EnvironmentError extends HotpatchError {}

/** A document read from outside (a policy, a scenario) that its schema refuses: where it came from, the path of its first problem and why. */
export abstract class InvalidDocumentError extends HotpatchError {
  constructor(
    readonly source: string,
    /** Where in the document, as `rings[0].gate.maxFailureRate`; '' for the document itself. */
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${source}: ${path === '' ? '' : `${path}: `}${problem}`);
  }
}

/** An error about one event, at a known place: `what` is the message without the place. */
export abstract class LocatedError extends HotpatchError {
  constructor(
    readonly at: EventLocation,
    readonly what: string,
  ) {
    super(`${describeLocation(at)}: ${what}`);
  }
}

/** A malformed line, a missing or mistyped field, an unknown event type. */
export class InvalidEventError extends LocatedError {
  readonly code = 'INVALID_EVENT';
  constructor(
    at: EventLocation,
    readonly problem: string,
    readonly field?: string,
  ) {
    super(at, `${field !== undefined ? `${field}: ` : ''}${problem}`);
  }
}

/** An event the lifecycle machine does not accept in the state the stream is in. */
export class TransitionRefusedError extends LocatedError {
  readonly code = 'TRANSITION_REFUSED';
  constructor(
    at: EventLocation,
    /** The state the stream was in. */
    readonly state: string,
    /** The refused event's type. */
    readonly eventType: string,
    /** Event types this state has transitions for. */
    readonly accepted: readonly string[],
    /** The named rule (guard) that refused it, when the state has a transition for this event type. */
    readonly rule?: string,
    readonly detail?: string,
  ) {
    super(at, transitionRefusal(state, eventType, accepted, rule, detail));
  }
}

/** What a TransitionRefusedError says without its place (its `what`), for a refusal given as a value. */
export function transitionRefusal(state: string, eventType: string, accepted: readonly string[], rule?: string, detail?: string): string {
  return (
    `${eventType} refused in state '${state}'` +
    (rule !== undefined ? ` by rule '${rule}'${detail ? ` (${detail})` : ''}` : '') +
    `; accepted here: ${accepted.length ? accepted.join(', ') : 'nothing (final state)'}`
  );
}

/** A command that the current state of the device does not allow. Wraps the machine's refusal. */
export class CommandRefusedError extends HotpatchError {
  readonly code = 'COMMAND_REFUSED';
  constructor(
    readonly command: string,
    readonly stream: string,
    readonly reason: string,
    readonly refusal?: TransitionRefusedError,
  ) {
    super(`${command} on ${stream} refused: ${reason}`);
  }
}

/**
 * A command refused, as a value (see decideOrRefuse): where refusals are expected and answered (an agent's late or
 * repeated report), none of them costs an error and its stack; the error is made for a caller who throws it.
 */
export class CommandRefusal {
  constructor(
    readonly command: string,
    readonly stream: string,
    /** What CommandRefusedError's `reason` would be. */
    readonly reason: string,
    private readonly refusal: () => TransitionRefusedError,
  ) {}

  /** The refusal as the error a throwing caller gives. */
  error(): CommandRefusedError {
    const refusal = this.refusal();
    return new CommandRefusedError(this.command, this.stream, refusal.what, refusal);
  }
}
