/**
 * The live console: `GET /` serves the report's page (the same bundle `hotpatch report` inlines, here as files beside
 * it, under a Content-Security-Policy that allows nothing inline and nothing from elsewhere); the page signs a person
 * in with a token and asks, as that token, for the report's data of its tenant (`GET /v1/console/data`: built by
 * the code of @hotpatch/report from the tenant's log (a rollout, a device with its history, or the fleet), the projections `hotpatch report` and `status` answer with,
 * in a view kept between requests and read on as the log grows: console-views.ts) and follows its tenant's log (`GET /v1/console/stream`: the live tail of sse.ts, each event
 * named by its position, stream, type and time only). The page asks for the data again after each burst of events.
 * Readers only (operators, tenant admins, auditors): an agent is refused, as from every read of the fleet.
 */
import { Type } from '@hotpatch/core';
import { CONSOLE_CSP, consoleHtml, pageAssets, type PageAssets } from '@hotpatch/report';
import type { RecordedEvent } from '@hotpatch/store';
import { ConsoleViews, type ConsoleSubject } from '../console-views.js';
import type { FastifyInstance } from 'fastify';
import { scopeOf, stillAuthorized } from '../access.js';
import { holdsTail } from '../open-requests.js';
import { HttpProblem } from '../problem.js';
import { bearer, problems, TailQuery } from '../schemas.js';
import type { HotpatchService } from '../service.js';
import { liveTail, tailStart, type TailOptions } from '../sse.js';
import type { Scope } from '../tenants.js';
import type { TypeBoxTypeProvider } from '../validation.js';

const READERS = ['operator', 'tenant-admin', 'auditor'] as const;

const DataQuery = Type.Object(
  {
    rollout: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The rollout to show.' })),
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The device to show (what `hotpatch report --device` draws).' })),
    fleet: Type.Optional(Type.Boolean({ description: 'Show the fleet by ring. Without any: the latest rollout planned, or the fleet when there is none.' })),
  },
  { additionalProperties: false },
);

const ConsoleAnswer = Type.Object({
  position: Type.Integer({ description: 'The data is the log read up to this position: follow the stream after it' }),
  caller: Type.Object({ role: Type.String(), tenant: Type.String(), party: Type.String(), serviceWide: Type.Boolean() }),
  rollouts: Type.Array(Type.String(), { description: 'The tenant’s rollouts, in the order they were planned' }),
  subject: Type.Object({ kind: Type.String(), id: Type.Optional(Type.String()) }),
  data: Type.Union([Type.Object({}, { additionalProperties: true, description: 'ReportData (packages/report/src/model.ts), what `hotpatch report` embeds in its page' }), Type.Null()]),
});

const unknownRollout = (id: string) => new HttpProblem(404, 'UNKNOWN_ROLLOUT', `no rollout ${id}`, { rollout: id });

/** The report's data for a tenant's rollout, device or fleet, from its log as `hotpatch report --store` reads it (console-views.ts: kept between requests, read on as the log grows). */
export async function consoleData(views: ConsoleViews, scope: Scope, role: string, query: { rollout?: string; device?: string; fleet?: boolean }) {
  const { tenant } = scope;
  const asked = [query.rollout !== undefined && 'rollout', query.device !== undefined && 'device', query.fleet === true && 'fleet'].filter((k) => k !== false);
  if (asked.length > 1) throw new HttpProblem(400, 'INVALID_REQUEST', `query: give one of rollout, device or fleet, not ${asked.join(' and ')}`, {});
  await tenant.orchestrator.sync();
  const rollouts = [...tenant.orchestrator.projection.rollouts.keys()];
  const latest = rollouts.at(-1);
  const subject: ConsoleSubject = query.device !== undefined ? { kind: 'device', id: query.device } : query.rollout !== undefined ? { kind: 'rollout', id: query.rollout } : query.fleet !== true && latest !== undefined ? { kind: 'rollout', id: latest } : { kind: 'fleet' };
  // A rollout of another tenant answers as one that does not exist: nothing of it is visible. Told before a view
  // reads the log for it (a view's first read is the tenant's log whole).
  if (subject.kind === 'rollout' && !tenant.orchestrator.projection.rollouts.has(subject.id)) throw unknownRollout(subject.id);
  const { position, data } = await views.data(tenant, subject);
  if (data === null && subject.kind === 'rollout') throw unknownRollout(subject.id);
  // Another tenant's device answers as /v1/devices/:id answers an unknown one.
  if (data === null && subject.kind === 'device') throw new HttpProblem(404, 'UNKNOWN_DEVICE', `no device ${subject.id}`, { device: subject.id });
  return { position, caller: { role, tenant: tenant.name, party: scope.party, serviceWide: scope.serviceWide }, rollouts, subject, data };
}

/** An event as the console's tail names it: where it is and what it is, not what it says (the data route does). */
const named = (e: RecordedEvent) => ({ position: e.position, stream: e.stream, type: e.type, time: e.time });

export function consoleRoutes(app: FastifyInstance, service: HotpatchService, tail: TailOptions): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = `${app.prefix}/`;
  const views = new ConsoleViews();
  let assets: PageAssets | undefined;
  const page = () => (assets ??= pageAssets());

  r.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(consoleHtml(base)),
  );
  r.get('/console/page.js', { schema: { hide: true } }, async (_request, reply) => reply.header('x-content-type-options', 'nosniff').type('text/javascript; charset=utf-8').send(page().script));
  r.get('/console/page.css', { schema: { hide: true } }, async (_request, reply) => reply.header('x-content-type-options', 'nosniff').type('text/css; charset=utf-8').send(page().style));

  r.get('/v1/console/data', {
    config: { roles: READERS },
    schema: {
      summary: 'The console’s view of the caller’s tenant: what `hotpatch report --rollout`, `--device` or `--fleet` draws (ReportData), the log position it was read to, the tenant’s rollouts and who the caller is',
      tags: ['read'],
      security: bearer,
      querystring: DataQuery,
      response: { 200: ConsoleAnswer, ...problems(404) },
    },
    handler: async (request) => consoleData(views, scopeOf(request), request.caller!.role, request.query),
  });

  r.get('/v1/console/stream', {
    config: { roles: READERS, holds: holdsTail },
    schema: {
      summary: 'The caller’s tenant’s log live, as server-sent events for the console: `id:` is the position (resume with Last-Event-ID), `data:` the event’s position, stream, type and time; a comment every 15 s',
      tags: ['read'],
      security: bearer,
      querystring: TailQuery,
      response: { 200: Type.String({ description: 'text/event-stream' }), ...problems(409, 429) },
    },
    handler: async (request, reply) => {
      const { tenant } = scopeOf(request);
      const after = await tailStart(request, { tenant, changes: service.changes, log: service.store }, request.query.after);
      reply.hijack();
      await liveTail(request, reply.raw, { store: tenant.store, changes: service.changes, after, visible: () => true, stillAuthorized: stillAuthorized(service, request), format: named, ...tail });
    },
  });
}
