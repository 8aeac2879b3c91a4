/**
 * The service's seals (docs/events.md "Seals: the log signed"): after each checkpoint an orchestrator saves, on a
 * timer, and once at shutdown after the last checkpoint, the digest of every stream's head is signed with the
 * service's Ed25519 key and appended as `LogSealed` to `seal/log`. One `LogSealer` keeps the heads between seals
 * (each seal reads only what came since) and runs its seals one after the other; nothing is written when nothing
 * but seals came since the last one.
 */
import type { KeyObject } from 'node:crypto';
import { LogSealer, type EventStore, type SealResult } from '@hotpatch/store';
import { errorFields } from './problem.js';

/** The key the service seals with: the pair `loadOrCreateSealKey` gives (its public key checks the seals in /v1/verify). */
export interface ServiceSealKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface SealLog {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type SealReason = 'checkpoint' | 'timer' | 'shutdown';

export class ServiceSeals {
  private readonly sealer: LogSealer;
  private readonly pending = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: () => SealLog;

  constructor(
    store: EventStore,
    readonly key: ServiceSealKey,
    options: { readonly clock: () => Date; readonly meta: Readonly<Record<string, unknown>>; readonly log: () => SealLog },
  ) {
    // A service that never started (its port taken) leaves an empty store: nothing to vouch for.
    this.sealer = new LogSealer(store, key.privateKey, { clock: options.clock, meta: options.meta, skipEmpty: true });
    this.log = options.log;
  }

  /** Seals now; a failure is logged (the service serves on) and undefined returned. */
  async seal(reason: SealReason): Promise<SealResult | undefined> {
    try {
      const sealed = await this.sealer.seal();
      if (sealed.written) this.log().info({ reason, seal: sealed.event?.position, covers: sealed.position, events: sealed.events, streams: sealed.streams, digest: sealed.digest }, 'log sealed');
      return sealed;
    } catch (error) {
      this.log().error({ ...errorFields(error), reason }, 'log not sealed');
      return undefined;
    }
  }

  /** A seal started now, not waited for (after a checkpoint, under the orchestrator's unit); `settle` waits for it. */
  soon(reason: SealReason): void {
    const sealing = this.seal(reason).finally(() => this.pending.delete(sealing));
    this.pending.add(sealing);
  }

  /** Seals every `ms` real milliseconds (0: never) until `stop`. */
  every(ms: number): void {
    if (ms <= 0) return;
    this.timer = setInterval(() => this.soon('timer'), ms);
    this.timer.unref();
  }

  /** The last seal: the timer stopped, the seals under way finished, then one more (nothing written if they covered all). */
  async stop(): Promise<SealResult | undefined> {
    clearInterval(this.timer);
    await Promise.all([...this.pending]);
    return this.seal('shutdown');
  }
}

/** The store, each saved projection (an orchestrator's checkpoint) followed by `then()`. */
export function afterCheckpoints<S extends EventStore>(store: S, then: () => void): S {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (key === 'saveProjection') {
        return async (...args: Parameters<EventStore['saveProjection']>) => {
          const saved = await target.saveProjection(...args);
          then();
          return saved;
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
