/**
 * Sealing a store's log: the digest of every stream's head as of the log's current position, signed, appended as
 * `LogSealed` to a seal stream (`seal/log` by default). A `LogSealer` keeps the heads between seals and reads only
 * the events after the last position it saw: a service seals at each checkpoint without reading its log again.
 *
 * The position covered is the last the store's `readAll` gave. Every store hands out a position only once every
 * position below it is committed and visible (PostgreSQL assigns them in commit order under its log head's lock;
 * SQLite and memory have one writer), so the heads read up to it are final. Events other writers append between
 * that read and the seal's own append get positions between the two: the seal says what it covers, and verify
 * rolls its heads back to it.
 */
import type { KeyObject } from 'node:crypto';
import { sealStream, type SealEventData } from '@hotpatch/core';
import { WrongExpectedVersionError } from '../errors.js';
import { readLogPages, type EventStore, type RecordedEvent } from '../types.js';
import { LogHeads } from './log-heads.js';
import { keyIdOf, SEAL_ALGORITHM, signSeal, type SealFields } from './seal-text.js';

export interface SealOptions {
  /** The seal stream's name: `seal/<name>` (default 'log'). */
  readonly name?: string;
  /** The seal's time (default: now). A service on a simulated clock passes its own. */
  readonly clock?: () => Date;
  /** Recorded as the seal event's meta (who sealed it: the service, the CLI). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Events read per page while catching up (default 1,000). */
  readonly pageSize?: number;
  /** Seal even when nothing but seals came since this stream's last seal (default false: nothing written then). */
  readonly always?: boolean;
  /** Write nothing while the log is empty (default false: an empty log is sealed as empty, which vouches that it was). */
  readonly skipEmpty?: boolean;
}

export interface SealResult {
  /** False when nothing but seals came after the last seal, or (skipEmpty) the log is empty: nothing written; `event` is that last seal, if any. */
  readonly written: boolean;
  /** The seal as recorded (undefined when not written and the sealer has seen no seal of its stream). */
  readonly event: RecordedEvent | undefined;
  /** What it covers: every event at or below `position`, in `streams` streams, and their heads' digest. */
  readonly position: number;
  readonly events: number;
  readonly streams: number;
  readonly digest: string;
  readonly keyId: string;
}

/** How many times a seal is decided again when another sealer appended to its stream first. */
const ATTEMPTS = 5;

export class LogSealer {
  private readonly heads = new LogHeads();
  private readonly stream: string;
  private readonly keyId: string;
  /** The seal stream's last event as read, and the last event of the log. */
  private lastSeal: RecordedEvent | undefined;
  private last: RecordedEvent | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly privateKey: KeyObject,
    private readonly options: SealOptions = {},
  ) {
    this.stream = sealStream(options.name ?? 'log');
    this.keyId = keyIdOf(privateKey);
  }

  /** The seal in progress: calls made at once (a checkpoint and a shutdown) seal one after the other. */
  private turn: Promise<unknown> = Promise.resolve();

  /** Reads the events after the last position seen, and seals what the log holds then. */
  seal(): Promise<SealResult> {
    const run = this.turn.then(() => this.sealNow());
    this.turn = run.catch(() => undefined);
    return run;
  }

  private async sealNow(): Promise<SealResult> {
    for (let attempt = 1; ; attempt++) {
      await this.catchUp();
      const { position, events, streams } = this.heads;
      const digest = this.heads.digest();
      if (this.options.skipEmpty === true && this.last === undefined) return { written: false, event: undefined, position, events, streams, digest, keyId: this.keyId };
      if (!this.options.always && this.last !== undefined && this.last === this.lastSeal) {
        const data = this.lastSeal.data as SealEventData['LogSealed'];
        return { written: false, event: this.lastSeal, position: data.position, events: data.events, streams: data.streams, digest: data.digest, keyId: data.keyId };
      }
      const version = this.lastSeal?.version ?? 0;
      const fields: SealFields = {
        stream: this.stream,
        time: (this.options.clock?.() ?? new Date()).toISOString(),
        sequence: version + 1,
        position,
        streams,
        events,
        digest,
        algorithm: SEAL_ALGORITHM,
        keyId: this.keyId,
      };
      const { stream, time, ...rest } = fields;
      const data: SealEventData['LogSealed'] = { ...rest, signature: signSeal(fields, this.privateKey) };
      try {
        const result = await this.store.appendToStream(stream, [{ type: 'LogSealed', time, data, ...(this.options.meta ? { meta: this.options.meta } : {}) }], { expectedVersion: version === 0 ? 'no_stream' : version });
        return { written: true, event: result.events[0], position, events, streams, digest, keyId: this.keyId };
      } catch (error) {
        // Another sealer sealed first: read what it wrote, and decide again.
        if (!(error instanceof WrongExpectedVersionError) || attempt >= ATTEMPTS) throw error;
      }
    }
  }

  private async catchUp(): Promise<void> {
    for await (const page of readLogPages(this.store, { fromPosition: this.heads.position + 1, pageSize: this.options.pageSize ?? 1_000 })) {
      for (const event of page) {
        this.heads.add(event.stream, event.hash, event.position);
        if (event.stream === this.stream) this.lastSeal = event;
        this.last = event;
      }
    }
  }
}

/** Seals a store's log once (reading it whole): see LogSealer to seal the same log again and again. */
export function sealLog(store: EventStore, privateKey: KeyObject, options: SealOptions = {}): Promise<SealResult> {
  return new LogSealer(store, privateKey, options).seal();
}
