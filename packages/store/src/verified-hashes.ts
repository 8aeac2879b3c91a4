/**
 * An append whose hashes the caller has computed and checked already: for hotpatch's import, which checks a file's
 * whole hash chain before it writes, and ties its second read of the file to the first by a digest of the bytes read
 * (so the events it hands over are the ones whose hashes were checked). Internal: not in the store's documented API.
 * The store takes the hashes as given instead of hashing every event again, checks everything else as for any append
 * (versions, ids, transitions), and refuses a run that does not chain from the stream's head. The events are handed
 * over: the store keeps them as its recorded events, uncopied, so the caller must not change them after.
 */
import { HotpatchError } from '@hotpatch/core';
import { GENESIS_HASH } from './hash.js';
import type { AppendOptions } from './types.js';

export const VERIFIED_HASHES: unique symbol = Symbol('hotpatch.verifiedHashes');

export interface VerifiedHashes {
  /** The hash the run's first event chains from: the previous event's in the caller's stream (GENESIS_HASH for version 1). */
  readonly prev: string;
  /** Each event's hash, in order. */
  readonly hashes: readonly string[];
}

/** AppendOptions with the hashes of a checked run (see VERIFIED_HASHES). */
export type VerifiedAppendOptions = AppendOptions & { readonly [VERIFIED_HASHES]?: VerifiedHashes };

/** A checked run that does not chain from the stream's head, or gives a hash count other than its events'. */
export class BrokenChainError extends HotpatchError {
  readonly code = 'BROKEN_CHAIN';
  constructor(
    readonly stream: string,
    message: string,
  ) {
    super(`${stream}: ${message}`);
  }
}

/**
 * The checked hashes of an append, when it gives some: checked to chain from `head` (the stream's last hash, null or
 * undefined for an empty stream) and to be one per event; undefined otherwise (the store hashes every event).
 */
export function verifiedHashesOf(options: AppendOptions, stream: string, count: number, head: string | null | undefined): VerifiedHashes | undefined {
  const verified = (options as VerifiedAppendOptions)[VERIFIED_HASHES];
  if (verified === undefined) return undefined;
  if (verified.hashes.length !== count) throw new BrokenChainError(stream, `${verified.hashes.length} checked hashes for ${count} events`);
  const from = head ?? GENESIS_HASH;
  if (verified.prev !== from) throw new BrokenChainError(stream, `the events chain from ${verified.prev.slice(0, 12)}…, the stream's head is ${from.slice(0, 12)}…`);
  return verified;
}
