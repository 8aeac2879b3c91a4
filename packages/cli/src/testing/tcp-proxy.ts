/**
 * Test helper: a TCP proxy in the test process between a service and its database, to make the database unreachable
 * for that service alone (the machine's PostgreSQL serves others meanwhile). `cut()` stops listening (a new
 * connection is refused, as by a server that is down) and destroys every connection through it; `restore()` listens
 * again on the same port.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections made through the proxy so far. */
  readonly connections: () => number;
  /**
   * Stops listening (new connections refused), runs `meanwhile` (say, the server ending the sessions itself, as a
   * restart does), then destroys what is left.
   */
  cut(meanwhile?: () => Promise<void>): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let made = 0;
  const make = (): Server =>
    createServer((client) => {
      made++;
      const upstream = connect(target.port, target.host);
      open.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  let server: Server | undefined = make();
  const port = await listen(server, 0);
  const stop = async (meanwhile?: () => Promise<void>) => {
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
    connections: () => made,
    cut: stop,
    async restore() {
      if (server !== undefined) return;
      server = make();
      await listen(server, port);
    },
    close: () => stop(),
  };
}
