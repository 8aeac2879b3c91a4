import { eventHash, GENESIS_HASH, type NewEvent, type RecordedEvent, type VerifiedHashes } from '@hotpatch/store';

/** An append's events as they will be recorded (positions 0 until known), chained from the stream's last hash. */
export interface Chained {
  readonly recorded: RecordedEvent[];
  readonly versions: number[];
  readonly types: string[];
  readonly times: string[];
  readonly hashes: string[];
  /** Each event's data and meta as written ('null' for no meta): the JSON the hashes were taken over. */
  readonly dataTexts: string[];
  readonly metaTexts: string[];
}

/**
 * `verified`: the run's hashes, checked by the caller (see VERIFIED_HASHES), who hands its events over: they are
 * recorded as they are, neither hashed again nor copied.
 */
export function chain(stream: string, events: readonly NewEvent[], ids: readonly string[], actual: number, headHash: string | null, verified?: VerifiedHashes): Chained {
  // Each event's text is kept for its hash, which uses it as it is when it is canonical already (checkBatch has made
  // sure every data and meta is a JSON object). The recorded events are read back from it: a batch's data in one
  // JSON array (one parse), meta only where there is some.
  const dataTexts = events.map((e) => JSON.stringify(e.data));
  const metaTexts = events.map((e) => (e.meta === undefined ? 'null' : JSON.stringify(e.meta)));
  if (verified !== undefined) return handedOver(stream, events, ids, actual, verified.hashes, dataTexts, metaTexts);
  const dataRead = (dataTexts.length === 1 ? [JSON.parse(dataTexts[0]!)] : JSON.parse(`[${dataTexts.join(',')}]`)) as unknown[];
  const metaRead = metaTexts.map((text) => (text === 'null' ? null : (JSON.parse(text) as Record<string, unknown>)));
  const chained: Chained = { recorded: [], versions: [], types: [], times: [], hashes: [], dataTexts, metaTexts };
  let prev = headHash ?? GENESIS_HASH;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const version = actual + 1 + i;
    const meta = metaRead[i]!;
    // Hash what is stored, as it will be read back; the recorded event is built once, in one of two shapes.
    const event: { -readonly [K in keyof RecordedEvent]: RecordedEvent[K] } = (
      meta === null
        ? { id: ids[i]!, stream, version, type: e.type, time: e.time, data: dataRead[i], position: 0, hash: '' }
        : { id: ids[i]!, stream, version, type: e.type, time: e.time, data: dataRead[i], meta, position: 0, hash: '' }
    ) as RecordedEvent;
    prev = eventHash(prev, event, { data: dataTexts[i]!, meta: meta === null ? null : metaTexts[i]! });
    event.hash = prev;
    chained.recorded.push(event as RecordedEvent);
    chained.types.push(e.type);
    chained.times.push(e.time);
    chained.hashes.push(prev);
    chained.versions.push(version);
  }
  return chained;
}

/** A checked run's events recorded as the caller gave them, with the hashes it checked. */
function handedOver(stream: string, events: readonly NewEvent[], ids: readonly string[], actual: number, hashes: readonly string[], dataTexts: string[], metaTexts: string[]): Chained {
  const chained: Chained = { recorded: [], versions: [], types: [], times: [], hashes: [...hashes], dataTexts, metaTexts };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const version = actual + 1 + i;
    const event = (
      e.meta === undefined
        ? { id: ids[i]!, stream, version, type: e.type, time: e.time, data: e.data, position: 0, hash: hashes[i]! }
        : { id: ids[i]!, stream, version, type: e.type, time: e.time, data: e.data, meta: e.meta, position: 0, hash: hashes[i]! }
    ) as RecordedEvent;
    chained.recorded.push(event);
    chained.types.push(e.type);
    chained.times.push(e.time);
    chained.versions.push(version);
  }
  return chained;
}
