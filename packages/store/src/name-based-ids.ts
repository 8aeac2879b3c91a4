/** Event ids derived from names: the same name (and time) always gives the same id, so retries agree on it. */
import { sha1Bytes as sha1 } from './digest.js';

/**
 * Name-based (version 5, RFC 9562) UUIDs in a namespace: the same name always gives the same id. The same ids as
 * the `uuid` package's v5, made with the namespace's bytes parsed once and Node's one-shot SHA-1: the orchestrator
 * derives an id for every event it writes, and this was a tenth of a simulation's time.
 */
export function nameBasedIds(namespace: string): (name: string) => string {
  const hex = namespace.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`not a UUID: ${namespace}`);
  const prefix = Buffer.from(hex, 'hex');
  return (name) => {
    const bytes = sha1(Buffer.concat([prefix, Buffer.from(name, 'utf8')]));
    bytes[6] = (bytes[6]! & 0x0f) | 0x50;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const h = bytes.toString('hex', 0, 16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  };
}

/**
 * Name-based UUIDs that sort by a time: the first 48 bits are `msecs` (milliseconds since 1970, as in a UUIDv7),
 * the other 74 bits those of the version 5 id of the name in the namespace, with version 8 (RFC 9562's custom
 * layout). The same (time, name) always gives the same id, as a name-based id does, so retries and instances agree
 * on it when they agree on the time (a release's date, a simulated clock's tick: never the wall clock). What it buys:
 * ids of one time lie together in a database's unique index on ids, and later times after earlier ones, so new
 * ids land near the index's end instead of on a random page each (measured on SQLite at 1.2 million events: 12 µs an
 * insert instead of 25, and far fewer pages written per transaction).
 */
export function timedNameBasedIds(namespace: string): (msecs: number, name: string) => string {
  const named = nameBasedIds(namespace);
  return (msecs, name) => withTime(msecs, named(name));
}

/** `id` (a UUID) with its first 48 bits set to `msecs` and its version to 8. */
export function withTime(msecs: number, id: string): string {
  if (!Number.isSafeInteger(msecs) || msecs < 0 || msecs >= 2 ** 48) throw new RangeError(`not a time for an id: ${msecs}`);
  const t = msecs.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-8${id.slice(15)}`;
}

/** The time a time-ordered id carries (a UUIDv7's, or a timed name-based one's), or undefined for any other id. */
export function timeOfId(id: string): number | undefined {
  if (id.length !== 36 || (id[14] !== '8' && id[14] !== '7') || id[8] !== '-' || id[13] !== '-') return undefined;
  const t = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  return Number.isSafeInteger(t) ? t : undefined;
}
