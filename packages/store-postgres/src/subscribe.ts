/**
 * The PostgreSQL store's consumers: woken by this store's appends and by NOTIFY on one LISTEN connection (a hint
 * only: they poll as well), and, when exclusive, one active instance per consumer across processes (an advisory lock
 * on a connection of its own). See the README's Consumers.
 */
import { checkConsumerName, createSubscription, createWakeups, type EventHandler, type EventStore, type SubscribeOptions, type Subscription } from '@hotpatch/store';
import pg from 'pg';
import type { PostgresContext } from './context.js';
import { ConnectionLostError, ConsumerLockLostError, isConnectionError } from './errors.js';

/** How long the lock's connection may take to answer, after the subscription's read lost its connection. */
const LOCK_PROBE_MS = 2_000;

export interface PostgresSubscribeOptions extends SubscribeOptions {
  /**
   * One active instance per consumer across processes: the subscription first takes a session advisory lock
   * named after the schema and the consumer on a connection of its own, retrying every `lockRetryMs` until it
   * gets it; it is released when the subscription stops or its process dies, and the next instance takes over
   * from the checkpoint.
   */
  readonly exclusive?: boolean;
  /** How often a waiting exclusive instance tries the lock, in ms (default 250). */
  readonly lockRetryMs?: number;
}

export interface Consumers {
  /** Wakes this store's consumers (after an append or a batch that wrote). */
  wake(): void;
  subscribe(consumer: string, handler: EventHandler, options: PostgresSubscribeOptions): Subscription;
  /** Resolves on a notification of an append (any process's), this store's own append, a new LISTEN, `ms`, or abort. */
  waitForNews(ms: number, signal: AbortSignal): Promise<void>;
  /** Ends the LISTEN connection and the consumers' lock connections. */
  close(): Promise<void>;
}

/** `store`: the store the consumers read and checkpoint through. */
export function createConsumers(ctx: PostgresContext, store: () => EventStore): Consumers {
  const { schema, poolConfig, Client, channel, open, isClosed } = ctx;
  const wakeups = createWakeups();
  const wakeAll = wakeups.wake;

  // One LISTEN connection per store, opened on the first wait and again after it breaks.
  let listening: Promise<void> | undefined;
  let listener: pg.Client | undefined;
  const dropListener = async (client: pg.Client) => {
    if (listener !== client) return;
    listener = undefined;
    listening = undefined;
    await client.end().catch(() => {});
  };
  /** Starts listening if no connection listens; returns the promise of a new LISTEN, or undefined if one is active. */
  const listen = (): Promise<void> | undefined => {
    if (listening !== undefined || isClosed()) return undefined;
    const client = new Client(poolConfig);
    listener = client;
    client.on('error', () => dropListener(client));
    client.on('end', () => dropListener(client));
    client.on('notification', wakeAll);
    listening = client.connect().then(() => client.query(`LISTEN "${channel}"`)).then(() => {});
    listening.catch(() => dropListener(client));
    return listening;
  };

  /** Resolves on a notification, an append by this store, a new LISTEN, `ms`, or abort, whichever first. */
  // Notifications sent before a LISTEN are lost: once a new one is active, read again.
  const waitForNews = (ms: number, signal: AbortSignal) => (isClosed() ? Promise.resolve() : wakeups.waitForNews(ms, signal, listen() ?? undefined));

  const lockClients = new Set<pg.Client>();
  const subscribeExclusive = (consumer: string, handler: EventHandler, subscribeOptions: PostgresSubscribeOptions): Subscription => {
    const retryMs = subscribeOptions.lockRetryMs ?? 250;
    const stopper = new AbortController();
    let client: pg.Client | undefined;
    let lost: unknown;
    const release = () => {
      if (client === undefined) return;
      lockClients.delete(client);
      const ending = client.end().catch(() => {});
      client = undefined;
      return ending;
    };
    const acquire = async () => {
      while (!stopper.signal.aborted) {
        open();
        const candidate = new Client({ ...poolConfig, keepAlive: true });
        let acquired = false;
        candidate.on('error', (error) => {
          if (acquired) lost ??= error;
        });
        candidate.on('end', () => {
          if (acquired && !stopper.signal.aborted) {
            lost ??= new Error('connection ended');
            wakeAll();
          }
        });
        lockClients.add(candidate);
        client = candidate;
        try {
          await candidate.connect();
          for (;;) {
            if (stopper.signal.aborted) return;
            const { rows } = await candidate.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`${schema}/${consumer}`]);
            if (rows[0]!.ok) {
              acquired = true;
              return;
            }
            await waitForNews(retryMs, stopper.signal);
          }
        } catch (error) {
          // The connection broke while waiting: connect again. Anything else is the caller's to know.
          await release();
          if (!isConnectionError(error)) throw error;
          await waitForNews(retryMs, stopper.signal);
        }
      }
    };
    const locked = acquire();
    const guard = () => {
      open();
      if (lost !== undefined) throw new ConsumerLockLostError(consumer, lost);
    };
    /**
     * Whether the lock's connection is gone, asked after a read or a checkpoint lost its own: when the server goes
     * away, the store's connections fail together and the read's failure may be heard first. A lock that does not
     * answer within LOCK_PROBE_MS counts as lost: better stopped than two instances running.
     */
    const lockLost = async (): Promise<boolean> => {
      const holder = client;
      if (lost !== undefined || holder === undefined) return true;
      let timer: NodeJS.Timeout | undefined;
      const silent = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the lock's connection did not answer within ${LOCK_PROBE_MS} ms`)), LOCK_PROBE_MS)));
      try {
        await Promise.race([holder.query('SELECT 1'), silent]);
      } catch (error) {
        lost ??= error;
      } finally {
        clearTimeout(timer);
      }
      return lost !== undefined;
    };
    /** A read or checkpoint of the subscription, once the lock is known held; its connection lost with the lock's: ConsumerLockLostError. */
    const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
      guard();
      try {
        return await call();
      } catch (error) {
        if (error instanceof ConnectionLostError && (await lockLost())) throw new ConsumerLockLostError(consumer, lost);
        throw error;
      }
    };
    const inner = createSubscription(
      {
        // The subscription starts (reads its checkpoint) once the lock is held, or at once when stopped before.
        readCheckpoint: async (c) => {
          await locked;
          return stopper.signal.aborted ? 0 : store().readCheckpoint(c);
        },
        readAll: (o) => guarded(() => store().readAll(o)),
        saveCheckpoint: (c, expected, next) => guarded(() => store().saveCheckpoint(c, expected, next)),
      },
      consumer,
      handler,
      subscribeOptions,
      { waitForNews },
    );
    const done = inner.done.finally(release);
    done.catch(() => {});
    return {
      consumer,
      position: inner.position,
      waitFor: inner.waitFor,
      stop: async () => {
        stopper.abort();
        await inner.stop();
        await release();
      },
      done,
    };
  };

  return {
    wake: wakeAll,
    waitForNews,
    subscribe(consumer, handler, subscribeOptions) {
      // Before an exclusive one takes its lock (named by the consumer): as createSubscription does.
      checkConsumerName(consumer);
      if (subscribeOptions.exclusive) return subscribeExclusive(consumer, handler, subscribeOptions);
      return createSubscription(store(), consumer, handler, subscribeOptions, { waitForNews });
    },
    async close() {
      wakeAll();
      await Promise.all([...lockClients].map((c) => c.end().catch(() => {})));
      lockClients.clear();
      if (listener) await dropListener(listener);
    },
  };
}
