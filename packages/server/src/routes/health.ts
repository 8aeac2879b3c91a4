/** Public routes for the machines around the service: liveness, readiness, Prometheus metrics. */
import { Type } from '@hotpatch/core';
import type { FastifyInstance } from 'fastify';
import { problemOf, ProblemSchema, sendProblem, storeUnavailable } from '../problem.js';
import type { HotpatchService } from '../service.js';

export function healthRoutes(app: FastifyInstance, service: HotpatchService): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Alive: the process answers, with the service’s time (its clock runs --speed times faster than real time)',
        tags: ['health'],
        response: { 200: Type.Object({ ok: Type.Literal(true), time: Type.String({ description: 'The service’s clock, ISO 8601 UTC: what a simulated agent keeps time by.' }) }) },
      },
    },
    async () => ({ ok: true as const, time: service.clock.now().toISOString() }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Ready: the store answers a read now and the projection was caught up with the log at start; 503 while the store is away',
        tags: ['health'],
        response: { 200: Type.Object({ ok: Type.Literal(true), position: Type.Integer(), lag: Type.Integer() }), 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      try {
        return { ok: true as const, ...(await service.readiness()) };
      } catch (error) {
        const problem = problemOf(error, request.url);
        return sendProblem(reply, storeUnavailable({ ...problem, detail: error instanceof Error ? error.message : String(error) }, service.storeName));
      }
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['health'], response: { 200: Type.String() } } }, async (_request, reply) => {
    const text = await service.metrics.registry.metrics();
    return reply.type(service.metrics.registry.contentType).send(text);
  });
}
