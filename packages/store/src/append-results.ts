import type { AppendResult, RecordedEvent } from './types.js';

/** An append of no events: nothing written, the stream at the version it had. */
export function nothingAppended(stream: string, version: number): AppendResult {
  return { stream, nextExpectedVersion: version, positions: [], versions: [], written: false, events: [] };
}

/** A retry of events the stream holds (judgeHeldIds said 'retry'): the original result, as recorded, nothing written. */
export function alreadyAppended(stream: string, recorded: readonly RecordedEvent[]): AppendResult {
  return {
    stream,
    nextExpectedVersion: recorded[recorded.length - 1]!.version,
    positions: recorded.map((e) => e.position),
    versions: recorded.map((e) => e.version),
    written: false,
    events: recorded,
  };
}
