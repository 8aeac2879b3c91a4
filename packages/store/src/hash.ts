/**
 * Tamper evidence. Every event carries `hash` = SHA-256 over the previous event's hash in its stream and the
 * event's canonical form; the first event of a stream chains from GENESIS_HASH. Changing, removing, inserting or
 * reordering an event breaks the chain at that event. The position is not hashed: a stream's chain does not
 * depend on how its events interleave with other streams', so an export imported elsewhere keeps its hashes.
 */
import { createHash } from 'node:crypto';
import type { EventEnvelope } from '@hotpatch/core';
import { sha256Hex } from './digest.js';

/** The `prev` of a stream's first event: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted at every level and no whitespace: the same value always gives the same text.
 * `stringified`, when the caller has it, is `JSON.stringify(value)`: used as it is when it is already canonical.
 */
export function canonicalJson(value: unknown, stringified?: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // Most event data has its keys in order already (or none): then the engine's own JSON.stringify writes the
  // canonical text, several times faster than building it here.
  if (inCanonicalOrder(value)) return stringified ?? JSON.stringify(value);
  return sortedJson(value);
}

function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value === 'string' ? quoted(value) : JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + (value[i] === undefined ? 'null' : sortedJson(value[i]));
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const v = record[keys[i]!];
    if (v === undefined) continue;
    out += (out.length > 1 ? ',' : '') + quoted(keys[i]) + ':' + sortedJson(v);
  }
  return out + '}';
}

/**
 * Whether JSON.stringify writes `value` exactly as sortedJson does: plain objects (no prototype but Object's or
 * none, so no toJSON) whose keys are in sorted order, arrays, and JSON's primitives, at every level. JSON.stringify
 * writes keys in Object.keys order and drops undefined properties, as sortedJson does; anything else (a function,
 * a symbol, a bigint, a Date) says no, and sortedJson decides.
 */
function inCanonicalOrder(value: object): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' ? v !== null && !inCanonicalOrder(v) : typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && !(keys[i - 1]! < keys[i]!)) return false;
    const v: unknown = (value as Record<string, unknown>)[keys[i]!];
    if (typeof v === 'object' ? v !== null && !inCanonicalOrder(v) : typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return false;
  }
  return true;
}

/**
 * The canonical form of an event: `canonicalJson` of {id, stream, version, type, time, data, meta (when present)}.
 * The envelope's keys are fixed, so they are written in their sorted order directly and only `data` and `meta`
 * are canonicalised: the same text as the generic path, without building and sorting an object per event.
 */
export function canonicalEvent(event: Pick<EventEnvelope, 'id' | 'stream' | 'version' | 'type' | 'time' | 'data' | 'meta'>, texts?: EventTexts): string {
  return (
    '{"data":' +
    canonicalJson(event.data, texts?.data) +
    ',"id":' +
    quoted(event.id) +
    (event.meta !== undefined ? ',"meta":' + canonicalJson(event.meta, texts?.meta ?? undefined) : '') +
    ',"stream":' +
    quoted(event.stream) +
    ',"time":' +
    quoted(event.time) +
    ',"type":' +
    quoted(event.type) +
    ',"version":' +
    JSON.stringify(event.version) +
    '}'
  );
}

/** Printable ASCII but `"` and `\`: what JSON.stringify writes between quotes unchanged. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/**
 * JSON.stringify of a string, without the call where it would change nothing: ids, times, types and most stream
 * names are plain ASCII, and a call of JSON.stringify per field was a third of the canonical form's cost.
 */
export function quoted(value: unknown): string {
  return typeof value === 'string' && PLAIN.test(value) ? '"' + value + '"' : JSON.stringify(value);
}


/** `JSON.stringify` of an event's data and meta, where a caller has them already (a store writing them). */
export interface EventTexts {
  readonly data: string;
  readonly meta?: string | null;
}

export function eventHash(prev: string, event: Pick<EventEnvelope, 'id' | 'stream' | 'version' | 'type' | 'time' | 'data' | 'meta'>, texts?: EventTexts): string {
  return sha256Hex(prev + '\n' + canonicalEvent(event, texts));
}

/** One digest over every stream's last hash, sorted by stream: compare it with a digest taken earlier. */
export function logDigest(heads: Iterable<readonly [stream: string, hash: string]>): string {
  const sorted = [...heads].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const h = createHash('sha256');
  for (const [stream, hash] of sorted) h.update(stream).update(' ').update(hash).update('\n');
  return h.digest('hex');
}

