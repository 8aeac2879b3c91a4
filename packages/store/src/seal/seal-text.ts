/**
 * What a seal signs, and how: Ed25519 (node:crypto) over a canonical text of the seal's fields — its stream and
 * time, its number in its stream, the position it covers, the counts and digest of the log up to there, the
 * algorithm and the key's id. Changing any of them (or forging a seal with another key) breaks the signature.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { SealEventData } from '@hotpatch/core';
import { canonicalJson } from '../hash.js';

export const SEAL_ALGORITHM = 'ed25519';
/** What the signed text starts with: the format of the text, so that a signature of another text never passes. */
const SEAL_TEXT_PREFIX = 'hotpatch-seal/1\n';

/** Every field of a seal but its signature, with the envelope's stream and time. */
export type SealFields = Omit<SealEventData['LogSealed'], 'signature'> & { readonly stream: string; readonly time: string };

/** The text a seal's signature is over: a fixed prefix, then canonical JSON of the fields (keys sorted). */
export function sealText(fields: SealFields): string {
  const { stream, time, sequence, position, streams, events, digest, algorithm, keyId } = fields;
  return SEAL_TEXT_PREFIX + canonicalJson({ algorithm, digest, events, keyId, position, sequence, stream, streams, time });
}

/** A public key's id: SHA-256 of its DER SubjectPublicKeyInfo, in hex (what `openssl pkey -pubout -outform DER | sha256sum` gives). */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** The signature of a seal's fields with an Ed25519 private key, in base64. */
export function signSeal(fields: SealFields, privateKey: KeyObject): string {
  return sign(null, Buffer.from(sealText(fields), 'utf8'), privateKey).toString('base64');
}

/** Whether `signature` (base64) is the signature of these fields by this public key. */
export function sealSignatureValid(fields: SealFields, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(sealText(fields), 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
