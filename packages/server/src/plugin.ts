/**
 * The service as a Fastify plugin, to register in an application of one's own (`app.register(hotpatch, { service })`):
 * its routes, its access control, its request checks and its problem answers, all encapsulated (the application's
 * own routes keep their validators and error handler). `buildServer` registers it with the OpenAPI document.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { accessControl } from './access.js';
import { methodAwareNotFound } from './methods.js';
import { boundOpenRequests, type OpenPerToken } from './open-requests.js';
import { errorHandlerFor } from './problem.js';
import { countRefusal } from './refusals.js';
import { agentRoutes } from './routes/agent.js';
import { auditRoutes } from './routes/audit.js';
import { consoleRoutes } from './routes/console.js';
import { healthRoutes } from './routes/health.js';
import { operatorRoutes } from './routes/operator.js';
import { readRoutes } from './routes/reads.js';
import { tokenRoutes } from './routes/tokens.js';
import type { HotpatchService } from './service.js';
import { DEFAULT_TAIL, type TailOptions } from './sse.js';
import { BodyTooDeepError, nestedTooDeep, serializerCompiler, validatorCompiler } from './validation.js';

export interface HotpatchPluginOptions {
  readonly service: HotpatchService;
  /** The live tail's heartbeat and back-pressure (see sse.ts). */
  readonly tail?: Partial<TailOptions>;
  /** Serve the live console at the plugin's root (`GET /` under its prefix) and its data routes (default true). */
  readonly console?: boolean;
  /**
   * Answer unknown routes under the plugin's prefix with a problem (default: when it is mounted under a prefix).
   * Without a prefix, the unknown paths are the application's, answered by its own handler (Fastify's, or one it set:
   * Fastify allows one per prefix); true takes them over.
   */
  readonly notFound?: boolean;
  /** The most long-polls and live tails one token may hold open at once (default 4 and 8; see open-requests.ts). */
  readonly openPerToken?: Partial<OpenPerToken>;
}

/** Why a body Fastify's parser refused is not one: JSON's own message (with the position), or the key it refuses. */
function whyNotJson(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return `not valid JSON: ${(error as Error).message}`;
  }
  return 'a key "__proto__", or "constructor" holding "prototype", is refused: it would reach the prototype of what reads it';
}

export const hotpatchPlugin: FastifyPluginAsync<HotpatchPluginOptions> = async (app: FastifyInstance, options) => {
  const { service } = options;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const answer = errorHandlerFor(service);
  // Each refusal by a bound of the service (401, 413, 415, a body nested too deep, 429) counted by reason (refusals.ts).
  app.setErrorHandler((error, request, reply) => {
    countRefusal(service.metrics.refusals, error);
    return answer(error, request, reply);
  });
  // Bodies are JSON alone: text/plain (Fastify's other default) is what a page of another origin may post without
  // asking first, and no route takes it (415).
  app.removeContentTypeParser('text/plain');
  // Fastify's JSON parser (its guard against __proto__ and constructor.prototype kept), its refusal saying why and where.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    parseJson(request, body as string, (error, value) => (error ? done(Object.assign(error, { message: `body: ${whyNotJson(body as string)}` })) : done(null, value))),
  );
  // A body nested past any route's shape is refused before anything reads it (a callback: no promise per request).
  app.addHook('preValidation', (request, _reply, done) => {
    const deep = nestedTooDeep(request.body);
    done(deep === undefined ? undefined : new BodyTooDeepError(deep));
  });
  if (options.notFound ?? app.prefix !== '') app.setNotFoundHandler(methodAwareNotFound(app, service.metrics.refusals));
  accessControl(app, service);
  boundOpenRequests(app, service.metrics.registry, options.openPerToken);
  /** The server is closing: a connection whose request was in flight then is ended once answered (see preClose). */
  let closing = false;
  // A callback, not an async function: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    if (closing) request.raw.socket?.end();
    service.metrics.http.observe({ method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    // An authenticated call answered read its token from the store: the store serves (an outage, if any, is over).
    if (reply.statusCode < 500 && request.caller !== null) service.storeServes();
    done();
  });
  // Waiters answer at once when the server closes: a long-poll says 204, a live tail ends (clients come back).
  // The server's close waits for every connection, and ends only those idle at its start: one answered later (a call
  // that waited on the store) would be kept alive by its client and hold the close up for as long.
  app.addHook('preClose', async () => {
    closing = true;
    service.changes.close();
  });
  healthRoutes(app, service);
  agentRoutes(app, service);
  operatorRoutes(app);
  readRoutes(app, service);
  tokenRoutes(app, service);
  const tail = { ...DEFAULT_TAIL, onDrop: () => service.metrics.sseDropped.inc(), ...options.tail };
  auditRoutes(app, service, tail);
  if (options.console !== false) consoleRoutes(app, service, tail);
};
