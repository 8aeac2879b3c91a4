import crypto, { createHash } from 'node:crypto';

/** Namespace for event ids derived from a command's idempotency key (a fixed, random UUID). */
export const COMMAND_EVENT_NAMESPACE = '6f1c2a8e-3b7d-4f0a-9c55-1d2e8b7a4c90';

const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;
const sha1 = (data: Buffer): Buffer => (oneShot ? oneShot('sha1', data, 'buffer') : createHash('sha1').update(data).digest());

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

const commandEventId = nameBasedIds(COMMAND_EVENT_NAMESPACE);

/**
 * The id of the n-th event a command records: the command's own id for the first, a name-based UUID for the
 * others. The same command always yields the same ids, so that a retry is recognised as a retry.
 */
export function eventIdFor(commandId: string, index: number): string {
  return index === 0 ? commandId : commandEventId(`${commandId}#${index}`);
}
