import { v5 as uuidv5 } from 'uuid';

/** Namespace for event ids derived from a command's idempotency key (a fixed, random UUID). */
export const COMMAND_EVENT_NAMESPACE = '6f1c2a8e-3b7d-4f0a-9c55-1d2e8b7a4c90';

/**
 * The id of the n-th event a command records: the command's own id for the first, a name-based UUID for the
 * others. The same command always yields the same ids, so that a retry is recognised as a retry.
 */
export function eventIdFor(commandId: string, index: number): string {
  return index === 0 ? commandId : uuidv5(`${commandId}#${index}`, COMMAND_EVENT_NAMESPACE);
}
