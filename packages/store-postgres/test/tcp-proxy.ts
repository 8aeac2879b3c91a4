/**
 * Test helper: a TCP proxy on loopback between a store (or a service) and PostgreSQL, to make the database
 * unreachable for that client alone (the machine's PostgreSQL serves others meanwhile), in either of two ways:
 *
 * - `cut()`: a server that is down — stops listening (a new connection is refused) and destroys every connection
 *   through it; `restore()` listens again on the same port;
 * - `blackhole()`: a network that drops packets — the bytes stop (dropped, not buffered) in both directions, or only
 *   the server's answers, while every socket stays open: no FIN, no RST, nothing for the client to notice but silence.
 *   New connections are accepted and black-holed too, and a side that closes meanwhile (the server ending the session)
 *   is not told to the other. `forward()` lets bytes through again (a connection that lost bytes stays broken: its
 *   protocol is out of step; new ones work).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type BlackHole = 'both' | 'answers';

export interface TcpProxy {
  readonly port: number;
  /** A connection string to the proxy, from one to the server. */
  readonly url: (direct: string) => string;
  /** Connections made through the proxy so far. */
  readonly connections: () => number;
  /**
   * Stops listening (new connections refused), runs `meanwhile` (say, the server ending the sessions itself, as a
   * restart does), then destroys what is left.
   */
  cut(meanwhile?: () => Promise<void>): Promise<void>;
  restore(): Promise<void>;
  /** Drops every byte from now on: in both directions, or only the server's answers (`answers`). */
  blackhole(what?: BlackHole): void;
  /** Forwards bytes again. */
  forward(): void;
  /** Bytes dropped so far. */
  readonly dropped: () => number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  /** Pairs whose one side closed while black-holed: the other side is kept open (silent) until bytes flow again. */
  const closedMeanwhile = new Set<() => void>();
  let hole: BlackHole | undefined;
  let dropped = 0;
  let made = 0;
  const relay = (from: Socket, to: Socket, isAnswer: boolean) =>
    from.on('data', (chunk: Buffer) => {
      if (hole === 'both' || (hole === 'answers' && isAnswer)) dropped += chunk.length;
      else to.write(chunk);
    });
  const make = (): Server =>
    createServer((client) => {
      made++;
      const upstream = connect(target.port, target.host);
      open.add(client).add(upstream);
      const drop = () => {
        if (hole !== undefined) return void closedMeanwhile.add(drop);
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      relay(client, upstream, false);
      relay(upstream, client, true);
    });
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  let server: Server | undefined = make();
  const port = await listen(server, 0);
  const stop = async (meanwhile?: () => Promise<void>) => {
    hole = undefined;
    closedMeanwhile.clear();
    const closing = server;
    server = undefined;
    const closed = closing !== undefined ? new Promise<void>((resolve) => closing.close(() => resolve())) : undefined;
    await meanwhile?.();
    for (const socket of open) socket.destroy();
    open.clear();
    await closed;
  };
  return {
    port,
    url(direct) {
      const u = new URL(direct);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.href;
    },
    connections: () => made,
    cut: stop,
    async restore() {
      if (server !== undefined) return;
      server = make();
      await listen(server, port);
    },
    blackhole: (what = 'both') => void (hole = what),
    forward() {
      hole = undefined;
      for (const drop of closedMeanwhile) drop();
      closedMeanwhile.clear();
    },
    dropped: () => dropped,
    close: () => stop(),
  };
}

/** Resolves with how `promise` settled, or 'pending' if it did not within `ms`: a hang shown as a value, not a test timeout. */
export async function within<T>(ms: number, promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), late]);
  } finally {
    clearTimeout(timer);
  }
}
