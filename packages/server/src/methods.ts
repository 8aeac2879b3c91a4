/**
 * A known path asked with a method it does not answer (`OPTIONS /v1/status`, `DELETE /v1/reports`): 405 with
 * `Allow` and a problem naming the methods, not the 404 of a path that does not exist. The router sends both to the
 * not-found handler; this one knows the routes (an `onRoute` hook on the instance it is made for: the routes
 * registered there after it, its plugins' included).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { HttpProblem, notFoundHandler, problemOf, sendProblem } from './problem.js';
import { countRefusal } from './refusals.js';

/** `/v1/devices/:id/instructions` → a pattern of the paths it matches (a parameter: one segment; `*`: the rest). */
const patternOf = (url: string): RegExp =>
  new RegExp(`^${url.split(/(:[A-Za-z0-9_]+|\*)/).map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')}$`);

/** The not-found handler of `app`: 405 with `Allow` for a path one of its routes answers with other methods (counted in `refusals`), else 404. */
export function methodAwareNotFound(app: FastifyInstance, refusals: Counter<'reason'>): (request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    const known = routes.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) known.methods.add(method.toUpperCase());
    routes.set(route.url, known);
  });
  return (request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = new Set<string>();
    for (const { pattern, methods } of routes.values()) if (pattern.test(path)) for (const method of methods) allowed.add(method);
    if (allowed.size === 0 || allowed.has(request.method)) return notFoundHandler(request, reply);
    const allow = [...allowed].sort();
    reply.header('allow', allow.join(', '));
    const problem = new HttpProblem(405, 'METHOD_NOT_ALLOWED', `${request.method} ${path}: not a method of this path; allowed: ${allow.join(', ')}`, { method: request.method, allowed: allow });
    countRefusal(refusals, problem);
    return sendProblem(reply, problemOf(problem, path));
  };
}
