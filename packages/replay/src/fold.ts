/**
 * Folding a timeline into device states, checking as it goes what a log must satisfy: versions contiguous per
 * stream, ids unique, every transition accepted by the lifecycle. One fold serves replay, history and verify.
 */
import { DEVICE_STREAMS, HotpatchError, InvalidEventError, lifecycleFor, streamKindOf, type AnyLifecycle, type EventLocation, type MachineState, type HotpatchEvent } from '@hotpatch/core';
import { eventHash, GENESIS_HASH } from '@hotpatch/store';
import type { StreamState } from './device-view.js';

/** Where to stop: after the last event, after the last event at or before a time, or after a position. */
export type ReplayPoint = { readonly kind: 'end' } | { readonly kind: 'time'; readonly time: string } | { readonly kind: 'position'; readonly position: number };

export interface FoldInput {
  readonly events: readonly HotpatchEvent[];
  /** Line number of each event (for messages, and the position of events that carry none). */
  readonly lines?: readonly number[];
  readonly file?: string;
}

export interface FoldOptions {
  readonly until?: ReplayPoint;
  /** Only fold this stream (other streams are still checked for ids). */
  readonly stream?: string;
  /** Called after every folded event with the state before and after. */
  readonly onStep?: (event: HotpatchEvent, before: StreamState | undefined, after: StreamState, index: number) => void;
  /** Collect problems and go on, instead of throwing the first. */
  readonly collectProblems?: boolean;
  /** The lifecycle to fold device streams with (default: the one the library runs); other kinds use their own. */
  readonly lifecycle?: Pick<AnyLifecycle, 'step' | 'refusal' | 'initial'>;
}

export interface FoldResult {
  readonly streams: Map<string, StreamState>;
  readonly problems: HotpatchError[];
  readonly folded: number;
}

/** The position of an event: its `position` field, or else its line number (or index + 1). */
export function positionOf(input: FoldInput, index: number): number {
  return input.events[index]!.position ?? input.lines?.[index] ?? index + 1;
}

export function foldTimeline(input: FoldInput, options: FoldOptions = {}): FoldResult {
  const { events, lines, file } = input;
  const until = options.until ?? { kind: 'end' };
  const untilTime = until.kind === 'time' ? Date.parse(until.time) : Number.POSITIVE_INFINITY;
  const untilPosition = until.kind === 'position' ? until.position : Number.POSITIVE_INFINITY;
  const streams = new Map<string, StreamState>();
  const seenIds = new Map<string, number>();
  const problems: HotpatchError[] = [];
  const fail = (error: HotpatchError) => {
    if (!options.collectProblems) throw error;
    problems.push(error);
  };
  let folded = 0;
  let lastPosition = 0;
  // Where an event is, built only when something is wrong with it (most events are fine).
  const locate = (i: number): EventLocation => {
    const event = events[i]!;
    return {
      ...(file !== undefined ? { file } : {}),
      ...(lines ? { line: lines[i]! } : event.position !== undefined ? { position: event.position } : {}),
      stream: event.stream,
      version: event.version,
    };
  };
  // Streams that reached an event after the time asked for: the rest of each is after it too.
  const pastTime = new Set<string>();

  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const position = positionOf(input, i);
    if (position > untilPosition) break;
    if (untilTime !== Number.POSITIVE_INFINITY && (pastTime.has(event.stream) || Date.parse(event.time) > untilTime)) {
      pastTime.add(event.stream);
      continue;
    }
    const where = () => locate(i);

    if (event.position !== undefined) {
      if (event.position <= lastPosition) fail(new InvalidEventError(where(), `position ${event.position} does not follow ${lastPosition}`, 'position'));
      lastPosition = event.position;
    }
    const firstSeen = seenIds.get(event.id);
    if (firstSeen !== undefined) {
      fail(new InvalidEventError(where(), `id ${event.id} repeats the event at ${lines ? `line ${firstSeen}` : `index ${firstSeen}`}`, 'id'));
      continue;
    }
    seenIds.set(event.id, lines?.[i] ?? i);
    if (options.stream !== undefined && event.stream !== options.stream) continue;

    const before = streams.get(event.stream);
    const expectedVersion = (before?.version ?? 0) + 1;
    if (event.version !== expectedVersion) {
      fail(
        new InvalidEventError(
          where(),
          event.version < expectedVersion
            ? `version ${event.version} repeats; the stream is at ${expectedVersion - 1} (an event inserted, duplicated or moved?)`
            : `version ${event.version} leaves a gap; expected ${expectedVersion} (an event removed or moved?)`,
          'version',
        ),
      );
      continue;
    }
    // Tamper evidence: an event that carries a hash must chain from the one before it in its stream.
    if (event.hash !== undefined) {
      const prev = before?.hash ?? GENESIS_HASH;
      const expected = eventHash(prev, event);
      if (expected !== event.hash) {
        fail(
          new InvalidEventError(
            where(),
            before !== undefined && before.hash === undefined
              ? 'hash present, but the event before it in the stream has none'
              : `hash does not match: this event was changed, or events before it in ${event.stream} were removed, inserted or reordered (expected ${expected.slice(0, 12)}…, found ${event.hash.slice(0, 12)}…)`,
            'hash',
          ),
        );
        continue;
      }
    }
    let state: MachineState<string, object>;
    try {
      const lifecycle = options.lifecycle !== undefined && streamKindOf(event.stream) === DEVICE_STREAMS ? options.lifecycle : lifecycleFor(event.stream);
      const next = lifecycle.step(before?.state ?? lifecycle.initial, event);
      if (next === undefined) throw lifecycle.refusal(before?.state ?? lifecycle.initial, event, where());
      state = next.state;
    } catch (error) {
      if (!(error instanceof HotpatchError)) throw error;
      fail(error);
      continue;
    }
    const after: StreamState = { stream: event.stream, state, version: event.version, time: event.time, ...(event.hash !== undefined ? { hash: event.hash } : {}) };
    streams.set(event.stream, after);
    folded++;
    options.onStep?.(event, before, after, i);
  }
  return { streams, problems, folded };
}
