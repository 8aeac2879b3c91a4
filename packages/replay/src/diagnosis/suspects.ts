/**
 * Suspects: events whose hash did not match, or that had none. The event after one in its stream (or the store's
 * head of the stream) tells what happened to it; these are the words for each answer.
 */
import type { StreamState } from '../device-view.js';
import { plural } from '../roots.js';
import type { DiagnosedRoot } from './diagnosed-root.js';

/** An event whose hash did not match, or that had none: the event after it in its stream tells which case it is. */
export interface Suspect {
  root: DiagnosedRoot;
  readonly kind: 'mismatch' | 'missing';
  /** The event's version (of the last event of a run of missing hashes). */
  version: number;
  /** Its hash as written; the hash its content gives, chained from `headBefore`; the head before it. */
  readonly stored: string | undefined;
  computed: string | undefined;
  readonly headBefore: string | undefined;
  /** The stream before it (null: the stream was new), to undo its fold when it proves inserted. */
  readonly before: StreamState | null;
  readonly unknownBefore: DiagnosedRoot | undefined;
  /** Why a missing hash is a problem; what a mismatch found. */
  readonly why: string;
  /** Missing hashes on the events after it in a row, and the last one's place. */
  more: number;
  last?: string;
}

/**
 * What the event after a suspect said of it: its content was changed (it chains from the hash as written), only its
 * hash was (it chains from the hash its content gives), it was inserted (the next event has its version and chains
 * from the event before it), the chain is broken there (neither), unknown (the next event could not tell), or it
 * was the last of its stream.
 */
export type Conclusion = 'changed' | 'hash' | 'inserted' | 'broken' | 'unknown' | 'last';

/**
 * A suspect's problem in words, as what came after it explained it: `by` says what that was ("the next event of
 * device/x (line 12) chains from", "the store's head of device/x is").
 */
export function suspectWhat(s: Suspect, stream: string, how: Conclusion, by?: string): string {
  if (s.kind === 'mismatch') {
    switch (how) {
      case 'changed':
        return `this event was changed after it was hashed: ${s.why}, and ${by} the hash as written`;
      case 'hash':
        return `only its hash was changed: ${s.why}, and ${by} the hash its content gives`;
      case 'inserted':
        return `this event was inserted: ${s.why}, and ${by} the hash of the event before it, with the same version`;
      case 'broken':
        return `${s.why}, and ${by} neither the hash as written nor the one its content gives: the chain is broken here`;
      case 'unknown':
        return `${s.why}: this event was changed, or its hash was`;
      case 'last':
        return `${s.why}: this event was changed, or its hash was (the last event of ${stream}: nothing after it tells which)`;
    }
  }
  const run = s.more > 0;
  const what = `${run ? `missing on this event and the ${plural(s.more, 'event')} after it in ${stream} (to ${s.last})` : 'missing'}, ${s.why}`;
  const its = run ? 'their' : 'its';
  switch (how) {
    case 'hash':
      return `${what}: ${run ? 'they were removed from intact events' : 'it was removed from an intact event'} (${by} the hash ${its} content gives)`;
    case 'inserted':
      return `this event was inserted: it has no hash, and ${by} the hash of the event before it, with the same version`;
    case 'changed':
    case 'broken':
      return `${what}, and ${by} another hash than ${its} content gives: ${run ? 'one of them' : 'this event'} was changed`;
    case 'unknown':
      return `${what}: ${run ? 'they' : 'it'} cannot be checked, and may have been changed`;
    case 'last':
      return `${what}: ${run ? 'they' : 'it'} cannot be checked, and may have been changed (${run && s.root.at.version === 1 ? `every event of ${stream}` : `the last event${run ? 's' : ''} of ${stream}`})`;
  }
}
