/**
 * A seal's events (stream `seal/<name>`, the service's own, e.g. `seal/log`): the service signs the digest of every
 * stream's head at a position of the log and appends it here, so that a log rewritten with its hashes recomputed no
 * longer matches what was signed. Signing and checking live in `@hotpatch/store` (seal/); this is the event's shape.
 */
import { Type } from '../typebox.js';
import type { EventBodyOf, EventOf } from '../envelope.js';
import { expecting, type Shape } from '../schema.js';

const Hex64 = (description: string) => expecting('64 lowercase hex digits', Type.String({ pattern: '^[0-9a-f]{64}$', description }));

/** The data of each seal event type: the one definition of its fields. */
export const SEAL_EVENT_DATA = {
  LogSealed: Type.Object({
    sequence: expecting('an integer ≥ 1', Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'This seal’s number in its stream (its version when written): signed, so that a seal removed before it shows.' })),
    position: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'The log position covered: every event at or below it.' }),
    streams: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'How many streams have an event at or below `position` (seal streams included).' }),
    events: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'How many events are at or below `position`.' }),
    digest: Hex64('logDigest of every stream’s head (its last hash at or below `position`), seal streams included.'),
    algorithm: Type.Literal('ed25519'),
    keyId: Hex64('SHA-256 of the signing public key (DER, SubjectPublicKeyInfo).'),
    signature: expecting('base64 of a 64-byte Ed25519 signature', Type.String({ pattern: '^[A-Za-z0-9+/]{86}==$', description: 'Ed25519 over the seal’s canonical text (sealText in @hotpatch/store).' })),
  }),
};

export type SealEventData = { readonly [T in keyof typeof SEAL_EVENT_DATA]: Shape<(typeof SEAL_EVENT_DATA)[T]> };

export type SealEventType = keyof SealEventData;

export const SEAL_EVENT_TYPES = ['LogSealed'] as const satisfies readonly SealEventType[];

export type SealEventBody = EventBodyOf<SealEventData>;

export type SealEvent = EventOf<SealEventData>;

/** The last seal of the stream: how many, the position it covered and the key it was signed with. */
export interface SealContext {
  readonly seals: number;
  readonly position: number;
  readonly keyId: string | null;
}

export const SEAL_STATES = ['unsealed', 'sealed'] as const;
export type SealStateValue = (typeof SEAL_STATES)[number];

export interface SealState {
  readonly value: SealStateValue;
  readonly context: SealContext;
}

export const initialSealContext: SealContext = { seals: 0, position: 0, keyId: null };
