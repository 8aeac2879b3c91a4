/**
 * `buildServer`: the service as a Fastify instance ready to listen — its routes, the OpenAPI 3.1 document at
 * `GET /openapi.json` (@fastify/swagger, generated from the routes' schemas), pino logs, a body limit of 1 MiB. The
 * orchestrator's ticks start when the server is ready; closing it (`app.close()`) stops accepting, answers waiters,
 * finishes what is in flight, then stops the ticks and saves the checkpoint.
 */
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { hotpatchPlugin, type HotpatchPluginOptions } from './plugin.js';
import { methodAwareNotFound } from './methods.js';
import { clientProblem, frameworkProblem } from './problem.js';
import { countRefusal } from './refusals.js';
import { HotpatchService, type ServiceOptions } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The service the server runs (its store, orchestrators, metrics). */
    hotpatch: HotpatchService;
  }
}

export interface ServerOptions extends ServiceOptions {
  /** Fastify's logger option (default true: pino, JSON lines on standard output). */
  readonly logger?: FastifyServerOptions['logger'];
  /**
   * Log every request (Fastify's "incoming request" and "request completed" lines; default true). False: only the
   * requests that fail are logged (a problem at info, a server error at error), as `hotpatch serve` does by default —
   * two lines per agent report cost about a tenth of the service's thread at thousands of reports a second.
   */
  readonly logRequests?: boolean;
  readonly tail?: HotpatchPluginOptions['tail'];
  /** The most long-polls and live tails one token may hold open at once (default 4 and 8): past it, 429. */
  readonly openPerToken?: HotpatchPluginOptions['openPerToken'];
  /**
   * The longest a request may take to arrive whole, headers and body, in ms (default 30,000; a 1 MiB body at 35 KB/s).
   * Past it the connection gets a 408 problem and is closed: a client that sends a byte now and then cannot hold a
   * connection for ever (Fastify's default is no limit). Long-polls and live tails are not concerned: their request
   * arrives at once, the wait is the answer's. 0: no bound (Node's own check then runs at its default interval).
   */
  readonly requestTimeoutMs?: number;
}

export const REQUEST_TIMEOUT_MS = 30_000;

export const BODY_LIMIT = 1024 * 1024;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const service = await HotpatchService.open(options);
  // Fastify 5's way to leave out its two lines per request (its top-level disableRequestLogging is deprecated: FSTDEP023).
  const logController = new LogController({ disableRequestLogging: options.logRequests === false });
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    logger: options.logger ?? true,
    logController,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    // Given to Node's server as it is made (on Node 20 a bound set afterwards, as Fastify's requestTimeout option does,
    // is not enforced), with the interval at which Node looks for late requests (its default, 30 s, would let one run
    // twice as long).
    requestTimeout,
    http: { requestTimeout, connectionsCheckingInterval: requestTimeout === 0 ? 30_000 : Math.max(50, Math.min(Math.floor(requestTimeout / 4), 30_000)) },
    // Path parameters as long as a URL may be (Node's 16 KiB of headers): the routes' schemas say how long an id may
    // be (200 characters) and answer a longer one with a problem naming it; Fastify's own limit (100) would refuse
    // ids the schemas allow, in a JSON of its own.
    routerOptions: { maxParamLength: 16 * 1024 },
    // What the router and the HTTP parser refuse before any route is found is answered as a problem too.
    frameworkErrors: frameworkProblem,
    clientErrorHandler: (error, socket) => countRefusal(service.metrics.refusals, clientProblem(error, socket)),
  });
  app.decorate('hotpatch', service);
  const notFound = methodAwareNotFound(app, service.metrics.refusals);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'hotpatch service',
        version: '1',
        description: 'Rebootless patching over HTTP: agents enrol, wait for instructions and report; operators plan and pause; tenant admins and auditors read. Errors are RFC 9457 problems (application/problem+json). See docs/service.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'hp_<id>_<secret>, from `hotpatch token create`' } } },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(hotpatchPlugin, { service, notFound: false, ...(options.tail ? { tail: options.tail } : {}), ...(options.openPerToken ? { openPerToken: options.openPerToken } : {}) });
  app.setNotFoundHandler(notFound);
  app.addHook('onReady', async () => service.start(app.log));
  app.addHook('onClose', async () => service.stop());
  return app;
}
