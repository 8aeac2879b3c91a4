/**
 * `hotpatch serve`: the patch service over HTTP (@hotpatch/server) on a store, its orchestrator ticking. SIGTERM or
 * SIGINT stop it in order: no new connection, what is in flight finished, waiters answered, the checkpoint saved,
 * the log sealed, exit 0.
 */
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { buildServer } from '@hotpatch/server';
import { DEFAULT_POLICY } from '@hotpatch/fleet';
import { loadOrCreateSealKey } from '@hotpatch/store';
import { MAX_TIMER_MS, parse, positiveInt, UsageError, type CommandSpec } from '../args.js';
import { loadIdKey } from '../id-key.js';
import { takeStopSignals } from '../signals.js';
import { describeSource, openEventStore, parseStoreSource, makesStore, removeStore, type StoreSource } from '../store-source.js';
import { readPolicyFile } from './simulate.js';
import type { ReportThreadStore } from '../report-thread-store.js';

/**
 * Streams whose state `serve` keeps folded by default: every report reads its device's stream and its token's, so a
 * fleet's devices and tokens must fit (100,000 of each), with room for its rollouts, rings and leases.
 */
export const SERVE_STATE_CACHE = 250_000;

/** The fastest the service's clock may run: a day each second (from 2026, the year 9999 comes after about 34 days). */
export const MAX_SPEED = 86_400;

/**
 * The most long-polls or live tails one token may be let hold open at once (`--long-polls-per-token`,
 * `--tails-per-token`): each holds a socket and a waiter, and the bound is what keeps one token from holding the
 * server's; past ten thousand it no longer does.
 */
export const MAX_OPEN_PER_TOKEN = 10_000;

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'run the patch service over HTTP: agents, operators, tenant admins and auditors (docs/service.md)',
  usage: `hotpatch serve [--store <source>] [--host H] [--port N] [--key FILE] [--seal-ms MS] [--speed K]
                [--policy file.json] [--tick-ms MS] [--state-cache N] [--log-requests]
                [--query-timeout-ms MS] [--connect-timeout-ms MS] [--report-thread on|off]
                [--long-polls-per-token N] [--tails-per-token N]

  Serves the HTTP API of docs/service.md on the store (default sqlite:hotpatch.db in the working directory; a
  PostgreSQL URL works too) and runs the orchestrator in the service, a tick every --tick-ms (default 1000). On a
  store that holds no token yet it prints an operator token once, on standard error: keep it. Logs are JSON lines
  (pino) on standard output: the ticks, checkpoints, seals, and each request that fails (--log-requests: every one). SIGTERM or SIGINT: stops accepting, finishes what is in flight, saves the
  orchestrator's checkpoint, seals the log, exits 0.

  The live console is at / (open http://127.0.0.1:8080/ in a browser and sign in with a token): the views of
  \`hotpatch report\` over the service's log as it grows, with pause and resume for operators and tenant admins.

  Over PostgreSQL, several instances share one store behind any load balancer: each serves every request, and each
  tenant's ticks are run by one live instance at a time, under a lease (orchestrator/<tenant>, 10 s, renewed every
  3 s); a dead instance's tenants are taken by the others within 15 s (docs/service.md "Several instances").

  The service seals its log (docs/events.md "Seals: the log signed"): after each checkpoint, every --seal-ms and
  at shutdown it signs the digest of every stream's head with its Ed25519 key and appends the seal to seal/log;
  \`hotpatch verify --key FILE.pub\` checks every seal.

  --host H          the address to listen on (default 127.0.0.1)
  --port N          the port (default 8080; 0: any free port, printed)
  --key FILE        the seal's private key (PEM, Ed25519), made on first start with its public key beside it at
                    FILE.pub (printed once); default hotpatch-seal.pem beside a SQLite store, in the working
                    directory for PostgreSQL
  --seal-ms MS      real milliseconds between seals on a timer (default 60000), besides those after checkpoints
                    and at shutdown
  --speed K         run the service's clock K times faster than real time from its start (default 1, at most
                    86400): with --speed 3600 an hour passes each second; started again on a log that is ahead
                    of the real time, from the log's latest event
  --policy FILE     the rollout policy (the simulate --policy format; default the built-in one)
  --tick-ms MS      real milliseconds between ticks (default 1000)
  --state-cache N   streams whose last state the service keeps in memory (default ${SERVE_STATE_CACHE.toLocaleString('en')}: a fleet of
                    100,000 devices with a token each, their rollouts and rings; under 1 KiB each, so up to ~250 MiB
                    when that many are used). Every report reads its device's and its token's state: with more devices
                    and tokens than this, each report reads and parses their snapshots from the store again
  --log-requests    log every request, not only those that fail (two lines each: at thousands of reports a
                    second, about a tenth of the service's time)
  --query-timeout-ms MS, --connect-timeout-ms MS
                    over PostgreSQL, how long a statement's connection may stay silent (default 2000) and how long a
                    new connection may take to be ready (default 3000) before the call fails as a lost connection
                    (503); 0: no bound (docs/service.md "When the store is away")
  --report-thread on|off
                    decide and commit agents' reports in a worker thread with a connection of its own to the store,
                    beside the thread that serves HTTP (default off): on a machine with a core to spare, more reports
                    a second (docs/service.md "The report thread")
  --long-polls-per-token N, --tails-per-token N
                    the most long-polls (GET …/instructions?wait=S) and live tails (/v1/events/stream,
                    /v1/console/stream) one token may hold open at once on this instance (default 4 and 8, at most
                    ${MAX_OPEN_PER_TOKEN.toLocaleString('en')}); one more is answered 429 TOO_MANY_OPEN with Retry-After
  --id-key FILE     the secret mixed into each tenant's id masks (made there on first start; give every instance
                    over the store the same file, for the store's life). Without it, a tenant's masks derive from
                    its name alone, as the CLI's --tenant commands write them (docs/tenants.md)`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      store: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      speed: { type: 'string' },
      policy: { type: 'string' },
      'tick-ms': { type: 'string' },
      key: { type: 'string' },
      'seal-ms': { type: 'string' },
      'id-key': { type: 'string' },
      'state-cache': { type: 'string' },
      'log-requests': { type: 'boolean' },
      'query-timeout-ms': { type: 'string' },
      'connect-timeout-ms': { type: 'string' },
      'report-thread': { type: 'string' },
      'long-polls-per-token': { type: 'string' },
      'tails-per-token': { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const source = parseStoreSource((values.store as string | undefined) ?? 'sqlite:hotpatch.db');
    const host = (values.host as string | undefined) ?? '127.0.0.1';
    const port = values.port === '0' ? 0 : positiveInt(values.port as string | undefined, '--port', 8080);
    if (port > 65535) throw new UsageError(`--port: at most 65535, got ${port}`);
    const speed = values.speed === undefined ? 1 : Number(values.speed);
    if (!(speed > 0 && Number.isFinite(speed))) throw new UsageError(`--speed: expected a number > 0, got ${JSON.stringify(values.speed)}`);
    if (speed > MAX_SPEED) throw new UsageError(`--speed: at most ${MAX_SPEED} (a day each second; faster, the service's clock would pass the year 9999, the last an event can carry, within weeks), got ${values.speed as string}`);
    const reportThread = onOff(values['report-thread'] as string | undefined, '--report-thread', false);
    const tickIntervalMs = positiveInt(values['tick-ms'] as string | undefined, '--tick-ms', 1000, MAX_TIMER_MS);
    const policy = values.policy === undefined ? DEFAULT_POLICY : await readPolicyFile(values.policy as string);
    const sealEveryMs = positiveInt(values['seal-ms'] as string | undefined, '--seal-ms', 60_000, MAX_TIMER_MS);
    const stateCacheSize = positiveInt(values['state-cache'] as string | undefined, '--state-cache', SERVE_STATE_CACHE);
    if (values.key === '') throw new UsageError('--key: expected a file');
    const openPerToken = openBounds(values['long-polls-per-token'] as string | undefined, values['tails-per-token'] as string | undefined);
    const bounds = storeBounds(source, values['query-timeout-ms'] as string | undefined, values['connect-timeout-ms'] as string | undefined);
    // Before anything is made or opened: an address that cannot be had (a host that does not resolve or is not this
    // machine's, a port taken) stops the start with no key, store or token written.
    await tryListen(host, port);
    // The service's package (Fastify and all) and the leases' (PostgreSQL's) are loaded here, not when the CLI starts;
    // before anything is opened or written, so that a package that cannot be loaded leaves no store open behind it.
    const [{ buildServer }, { orchestrationLeasesFor }] = await Promise.all([import('@hotpatch/server'), import('./serve-leases.js')]);
    // Before the store opens: a bad key file stops the start with nothing written (a seal key made for it taken back).
    if (values['id-key'] === '') throw new UsageError('--id-key: expected the path of a key file');
    const key = await loadOrCreateSealKey((values.key as string | undefined) ?? defaultKeyPath(source));
    const idKey =
      values['id-key'] === undefined
        ? undefined
        : await loadIdKey(values['id-key'] as string).catch(async (error: unknown) => {
            if (key.created) await Promise.all([key.path, key.publicPath].map((file) => rm(file, { force: true })));
            throw error;
          });

    // SQLite's own WAL checkpoints (store-sqlite's `checkpoints: 'worker'` measured slower here: docs/performance.md).
    // A store that cannot be opened (its folder missing, not a store, busy, unreachable) stops the start: the keys
    // made above for it are taken back, so that the failed start leaves nothing behind.
    // The same when the address is lost after the check above (another process took the port meanwhile) on a SQLite
    // store this start made: the store is taken back too. An existing store keeps the keys: the stop that follows a
    // lost address may have sealed it with them.
    const made = [...(key.created ? [key.path, key.publicPath] : []), ...(idKey?.made === true ? [values['id-key'] as string] : [])];
    const newStore = await makesStore(source);
    const undo = async () => {
      await Promise.all(made.map((file) => rm(file, { force: true })));
      if (newStore && source.kind === 'sqlite') await removeStore(source);
    };
    const store = await openEventStore(source, { stateCacheSize, ...bounds }).catch(async (error: unknown) => {
      await undo();
      throw error;
    });
    if (key.created) io.err(`hotpatch serve: made a seal key: ${key.path} (private, mode 0600); its public key ${key.publicPath} is what hotpatch verify --key takes`);
    if (idKey?.made) io.err(`hotpatch serve: made the tenants' id key in ${values['id-key'] as string}: keep it with the store`);
    const storeName = describeSource(source);
    let app: Awaited<ReturnType<typeof buildServer>> | undefined;
    const leasing = orchestrationLeasesFor(store, () => app?.log, (error) => app?.hotpatch.storeFailed(error, 'lease round') ?? false);
    try {
      const threadStore: ReportThreadStore = { source, options: { stateCacheSize, ...bounds } };
      app = await buildServer({ store, storeName, policy, logRequests: values['log-requests'] === true, openPerToken, speed, tickIntervalMs, seal: { key, everyMs: sealEveryMs },
        ...(reportThread ? { reportThread: { openStore: { module: new URL('../report-thread-store.js', import.meta.url).href, argument: threadStore } } } : {}), ...(idKey !== undefined ? { idKey: idKey.key } : {}), ...(leasing !== undefined ? { orchestrationLeases: leasing.factory, meta: { source: 'hotpatch-serve', instance: leasing.instance } } : {}) });
      // Listening first: a port that cannot be had stops the start before the first operator token is written.
      const address = await app.listen({ host, port });
      const first = await app.hotpatch.firstOperatorToken();
      if (first !== undefined) io.err(`hotpatch serve: the store held no token; an operator token (shown once, keep it):\n${first}`);
      // Before the line that says it listens: what waits for that line (a script, a test) has this one too.
      const behind = app.hotpatch.clockBehind;
      if (behind !== undefined) io.err(`hotpatch serve: the log's latest event (${behind.latest}) is ahead of this clock by ${(behind.ms / 86_400_000).toFixed(1)} days (an earlier run with --speed): what it writes now is dated before it; --speed K goes on from there`);
      io.err(`hotpatch serve: listening on ${address} — ${describeSource(source)}${speed !== 1 ? `, clock ${speed}x` : ''}; the console at ${address}/`);
    } catch (error) {
      await app?.close();
      await store.close();
      if (newStore) await undo();
      throw error;
    }
    const server = app;
    await new Promise<void>((resolve, reject) => {
      const release = takeStopSignals((signal) => {
        release();
        io.err(`hotpatch serve: ${signal}: stopping (finishing what is in flight, saving the checkpoint, sealing the log)`);
        server
          .close()
          .then(() => store.close())
          .then(() => {
            io.err('hotpatch serve: stopped');
            resolve();
          }, reject);
      });
    });
  },
};

/** Listens on the address and closes at once; rejects with the system's error (exit 3, one line) when it cannot. */
async function tryListen(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host, port }, resolve);
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** An on|off flag's value (default `fallback`); anything else is a usage error. */
function onOff(value: string | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'on' || value === 'off') return value === 'on';
  throw new UsageError(`${name}: expected on or off, got ${JSON.stringify(value)}`);
}

/** --query-timeout-ms and --connect-timeout-ms: PostgreSQL's bounds on silence (store-postgres), whole ms, 0 for none. */
function storeBounds(source: StoreSource, query: string | undefined, connect: string | undefined): { queryTimeoutMs?: number; connectTimeoutMs?: number } {
  const ms = (value: string | undefined, name: string): number | undefined => {
    if (value === undefined) return undefined;
    if (source.kind !== 'postgres') throw new UsageError(`${name} applies to a PostgreSQL store (--store postgres://…)`);
    if (!/^\d{1,10}$/.test(value) || Number(value) > MAX_TIMER_MS) throw new UsageError(`${name}: expected a whole number of ms from 0 to ${MAX_TIMER_MS} (0: no bound), got ${JSON.stringify(value)}`);
    return Number(value);
  };
  const queryTimeoutMs = ms(query, '--query-timeout-ms');
  const connectTimeoutMs = ms(connect, '--connect-timeout-ms');
  return { ...(queryTimeoutMs !== undefined ? { queryTimeoutMs } : {}), ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}) };
}

/** --long-polls-per-token and --tails-per-token: whole numbers from 1 to MAX_OPEN_PER_TOKEN; the service's defaults (4, 8) without. */
function openBounds(longPolls: string | undefined, tails: string | undefined): { longPolls?: number; tails?: number } {
  const bound = (value: string | undefined, name: string) => (value === undefined ? undefined : positiveInt(value, name, 0, MAX_OPEN_PER_TOKEN));
  const [polls, tailed] = [bound(longPolls, '--long-polls-per-token'), bound(tails, '--tails-per-token')];
  return { ...(polls !== undefined ? { longPolls: polls } : {}), ...(tailed !== undefined ? { tails: tailed } : {}) };
}

/** The seal key when --key is not given: beside a SQLite store, in the working directory for PostgreSQL. */
export function defaultKeyPath(source: StoreSource): string {
  return source.kind === 'postgres' ? 'hotpatch-seal.pem' : join(dirname(source.path), 'hotpatch-seal.pem');
}
