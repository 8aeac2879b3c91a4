/**
 * Bounds on a server that stops answering without closing the connection (a network that drops packets, a frozen
 * host): without them a query waits on its socket for ever. A connection must be ready within `connectTimeoutMs`.
 * A statement may run as long as it needs, but when the server has sent nothing for `queryTimeoutMs` (and nothing
 * more could be sent to it), the store asks over a new connection whether the statement's backend is still at work
 * (pg_stat_activity): a lock wait, a long index build, a big commit are, and are waited for. A backend idle, gone
 * or stuck on the network at two checks with nothing heard between, or a check that does not answer within
 * `connectTimeoutMs`, means the answer is not coming: the connection is destroyed (never returned to the pool: its
 * protocol state is unknown) and the statement fails with NoAnswerError, which the store reports as
 * ConnectionLostError. pg's own `query_timeout` only stops waiting and leaves the client in the pool, stuck
 * (brianc/node-postgres#3399).
 */
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import pg from 'pg';

/** The server did not answer in time; the connection it was on has been destroyed. */
export class NoAnswerError extends Error {
  /** As a socket's own timeout: a connection error (isConnectionError), "timed out" to openSchema's reader. */
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly server: string,
    readonly waited: 'connect' | 'statement',
    readonly ms: number,
    why = '',
  ) {
    super(waited === 'connect' ? `${server} did not answer a new connection within ${ms} ms` : `${server} did not answer for ${ms} ms${why}; the connection was dropped`);
  }
}

export interface SilenceBounds {
  /** The server named in errors. */
  readonly server: string;
  /** Silence (nothing received, nothing sent) during a statement before it is checked on, in ms; 0: never. */
  readonly queryTimeoutMs: number;
  /** A new connection's bound, and the check's, in ms; 0: none (the check is then bounded by queryTimeoutMs). */
  readonly connectTimeoutMs: number;
}

/** What a check over a new connection found of a backend: still at work, not (idle, gone, waiting on us), or no answer. */
type Verdict = 'working' | 'stopped' | 'silent';

/** pg.Client's state the watch reads (pg 8). */
interface ClientState {
  readyForQuery: boolean;
  _queryQueue: unknown[];
  _connected: boolean;
  _ending: boolean;
  _ended?: boolean;
  processID: number | null;
  connection: { stream: Socket };
}

/** Asks a fresh connection (not watched itself) what backend `pid` is doing, within `connectTimeoutMs` (else `queryTimeoutMs`). */
async function check(config: pg.ClientConfig, bounds: SilenceBounds, pid: number | null): Promise<Verdict> {
  if (pid === null) return 'stopped';
  const client = new pg.Client(config);
  client.on('error', () => {});
  // Bounded even when connections are not: a check that waited for ever would be the hang it is there to end.
  const ms = bounds.connectTimeoutMs > 0 ? bounds.connectTimeoutMs : bounds.queryTimeoutMs;
  const timer = setTimeout(() => (client as unknown as ClientState).connection.stream.destroy(), ms);
  try {
    await client.connect();
    const { rows } = await client.query<{ state: string | null; wait_event: string | null }>('SELECT state, wait_event FROM pg_stat_activity WHERE pid = $1', [pid]);
    const row = rows[0];
    return row !== undefined && row.state === 'active' && row.wait_event !== 'ClientRead' && row.wait_event !== 'ClientWrite' ? 'working' : 'stopped';
  } catch (error) {
    // The server answered with an error of its own (too many connections…): it is there; let the statement run.
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') ? 'working' : 'silent';
  } finally {
    clearTimeout(timer);
    void client.end().catch(() => {});
  }
}

/** A pg.Client class whose connections and statements are bounded as above (for the pool's `Client`, and the store's own connections). */
export function boundedClient(bounds: SilenceBounds): typeof pg.Client {
  const { server, queryTimeoutMs, connectTimeoutMs } = bounds;
  /**
   * Set when a check found the server silent, cleared by any byte from it on any connection: meanwhile a statement
   * silent for queryTimeoutMs is cut without another check (a call queued behind another waits one bound, not two).
   */
  let silentSince: number | undefined;
  return class BoundedClient extends pg.Client {
    #config: pg.ClientConfig;
    #timer: NodeJS.Timeout | undefined;
    /** When something was last heard from the server, sent to it, or asked of it (performance.now()). */
    #heard = 0;
    #sent = 0;
    /** Found idle by a check, nothing heard since: cut at the next. */
    #suspect = false;

    constructor(config: pg.ClientConfig) {
      super(config);
      this.#config = config;
      const query = this.query.bind(this) as (...args: unknown[]) => unknown;
      (this as { query: unknown }).query = (...args: unknown[]) => {
        this.#hear();
        if (queryTimeoutMs > 0 && this.#timer === undefined) this.#watch(queryTimeoutMs);
        return query(...args);
      };
      // Ending waits for the server's end of the connection, which a silent network never brings: bounded too.
      const end = this.end.bind(this) as (...args: unknown[]) => unknown;
      (this as { end: unknown }).end = (...args: unknown[]) => {
        const stream = (this as unknown as ClientState).connection.stream;
        const ms = connectTimeoutMs > 0 ? connectTimeoutMs : queryTimeoutMs;
        if (ms > 0 && !stream.destroyed) setTimeout(() => stream.destroy(), ms).unref();
        return end(...args);
      };
      const connect = this.connect.bind(this) as (...args: unknown[]) => unknown;
      (this as { connect: unknown }).connect = (...args: unknown[]) => {
        this.#bindConnect();
        return connect(...args);
      };
    }

    /** Hears the server once connected; bounds the connection's wait to be ready. */
    #bindConnect() {
      const state = this as unknown as ClientState;
      this.once('connect', () =>
        state.connection.stream.on('data', () => {
          this.#hear();
          silentSince = undefined;
        }),
      );
      if (connectTimeoutMs <= 0) return;
      const timer = setTimeout(() => {
        silentSince ??= performance.now();
        state.connection.stream.destroy(new NoAnswerError(server, 'connect', connectTimeoutMs));
      }, connectTimeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      this.once('connect', clear).once('end', clear);
    }

    #hear() {
      this.#heard = performance.now();
      this.#suspect = false;
    }

    #watch(ms: number) {
      this.#timer = setTimeout(() => void this.#look(), ms);
      this.#timer.unref();
    }

    /** Whether the client waits for the server: a statement sent or queued (before the connection is up: the connect's bound). */
    #waiting(): boolean {
      const state = this as unknown as ClientState;
      return !state._ending && state._ended !== true && !(state._connected && state.readyForQuery && state._queryQueue.length === 0);
    }

    async #look() {
      this.#timer = undefined;
      if (!this.#waiting()) return;
      if (!(this as unknown as ClientState)._connected) return this.#watch(queryTimeoutMs);
      const stream = (this as unknown as ClientState).connection.stream;
      // Bytes still leaving (a big statement on a slow link) are progress too.
      const moved = () => {
        const sent = stream.bytesWritten - stream.writableLength;
        if (sent !== this.#sent) {
          this.#sent = sent;
          this.#hear();
        }
        return this.#heard;
      };
      const silent = performance.now() - moved();
      if (silent < queryTimeoutMs) return this.#watch(queryTimeoutMs - silent);
      const askedAt = this.#heard;
      const verdict = silentSince !== undefined ? 'known silent' : await check(this.#config, bounds, (this as unknown as ClientState).processID);
      if (!this.#waiting()) return;
      // Anything in or out meanwhile (a busy event loop reads its answer late, writes its rows late): not silent.
      // A backend found idle may yet be reading what is on its way (a slow link): one more bound before the cut.
      if (verdict === 'working' || moved() !== askedAt || (verdict === 'stopped' && !this.#suspect)) {
        const suspect = verdict === 'stopped' && moved() === askedAt;
        this.#hear();
        this.#suspect = suspect;
        return this.#watch(queryTimeoutMs);
      }
      if (verdict === 'silent') silentSince = performance.now();
      const why = {
        silent: ', nor a check over a new connection',
        'known silent': ', nor any connection since a check found it silent',
        stopped: ', and its statement is no longer running there (the answer was lost)',
      }[verdict];
      stream.destroy(new NoAnswerError(server, 'statement', queryTimeoutMs, why));
    }
  } as unknown as typeof pg.Client;
}
