import { describe, expect, it } from 'vitest';
import { v5 as uuidv5 } from 'uuid';
import { timedNameBasedIds, timeOfId } from '@hotpatch/store';
import { COMMAND_EVENT_NAMESPACE, eventIdFor } from './ids.js';

describe('eventIdFor', () => {
  const timed = timedNameBasedIds(COMMAND_EVENT_NAMESPACE);

  it('a command with a timed id records its further events at the same time; other ids as before', () => {
    const command = timed(Date.parse('2026-02-10T17:00:00.000Z'), 'stage:HP-2026-02');
    expect(eventIdFor(command, 0)).toBe(command);
    expect(timeOfId(eventIdFor(command, 1))).toBe(Date.parse('2026-02-10T17:00:00.000Z'));
    expect(eventIdFor(command, 1)).not.toBe(eventIdFor(command, 2));
    const v7 = '019b8d2b-8c00-71ab-83c0-e086ebe647f7';
    expect(eventIdFor(v7, 1)).toBe(uuidv5(`${v7}#1`, COMMAND_EVENT_NAMESPACE));
  });
});
