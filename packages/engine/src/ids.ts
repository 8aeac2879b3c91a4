import { nameBasedIds, timeOfId, withTime } from '@hotpatch/store';

/** Namespace for event ids derived from a command's idempotency key (a fixed, random UUID). */
export const COMMAND_EVENT_NAMESPACE = '6f1c2a8e-3b7d-4f0a-9c55-1d2e8b7a4c90';

const commandEventId = nameBasedIds(COMMAND_EVENT_NAMESPACE);

/**
 * The id of the n-th event a command records: the command's own id for the first, a name-based UUID for the
 * others. The same command always yields the same ids, so that a retry is recognised as a retry. A command whose
 * id is a timed name-based one (version 8) gives ids with the same time, so its events lie together in the index.
 */
export function eventIdFor(commandId: string, index: number): string {
  if (index === 0) return commandId;
  const id = commandEventId(`${commandId}#${index}`);
  const t = commandId[14] === '8' ? timeOfId(commandId) : undefined;
  return t === undefined ? id : withTime(t, id);
}
