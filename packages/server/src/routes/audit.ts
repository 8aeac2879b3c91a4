/**
 * The raw log for auditors (and operators): a page of events after a position, a live tail as server-sent events
 * (`id:` the position, resumable with Last-Event-ID), and the log verified. A service-wide caller (an operator, an
 * auditor bound to no tenant) reads the whole log; a caller bound to a tenant, its tenant's events alone, through its
 * view (local names, the log's positions), and verifies its tenant's streams as the log holds them.
 */
import { Type } from '@hotpatch/core';
import { sealsJson, StoreVerification } from '@hotpatch/replay';
import { logDigest, readLogPages, type EventStore } from '@hotpatch/store';
import type { FastifyInstance } from 'fastify';
import { scopeOf, stillAuthorized } from '../access.js';
import { holdsTail } from '../open-requests.js';
import { bearer, MAX_AFTER, problems, TailQuery } from '../schemas.js';
import type { HotpatchService } from '../service.js';
import { liveTail, refusePastEnd, tailStart, type TailOptions } from '../sse.js';
import type { Scope } from '../tenants.js';
import type { TypeBoxTypeProvider } from '../validation.js';

const AUDITORS = ['auditor', 'operator'] as const;
const Event = Type.Object({}, { additionalProperties: true, description: 'A recorded event: its envelope (id, stream, version, type, time, position, hash) and data (docs/schemas/event.schema.json)' });
const PageQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_AFTER, description: 'The position of the last event already read (default 0: from the start).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'At most this many events (default 1000).' })),
  },
  { additionalProperties: false },
);

const Seal = Type.Object(
  {
    ok: Type.Boolean(),
    stream: Type.String(),
    version: Type.Integer(),
    position: Type.Integer(),
    sequence: Type.Integer(),
    covers: Type.Integer({ description: 'The seal vouches for every event at or below this position' }),
    events: Type.Integer(),
    streams: Type.Integer(),
    keyId: Type.String(),
    signature: Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('other key'), Type.Literal('not checked')]),
    digest: Type.Union([Type.Literal('matches'), Type.Literal('differs'), Type.Literal('unknown')]),
    problems: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
const Seals = Type.Object(
  {
    signatures: Type.Union([Type.Literal('checked'), Type.Literal('not checked')], { description: 'checked with the service’s seal key, or not (a service without one)' }),
    keyId: Type.Optional(Type.String()),
    count: Type.Integer(),
    lastCovered: Type.Union([Type.Integer(), Type.Null()]),
    uncovered: Type.Integer({ description: 'Events after the last seal’s position: no seal vouches for them' }),
    list: Type.Array(Seal),
  },
  { additionalProperties: false, description: 'The log’s seals, as `hotpatch verify --key --json` gives them; only for a service-wide caller (a seal vouches for the whole log)' },
);

/** The log a caller reads: the whole store service-wide, its tenant's view otherwise. */
const logOf = (service: HotpatchService, scope: Scope): EventStore => (scope.serviceWide ? service.store : scope.tenant.store);
const everything = () => true;

export function auditRoutes(app: FastifyInstance, service: HotpatchService, tail: TailOptions): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/v1/events', {
    config: { roles: AUDITORS },
    schema: {
      summary: 'A page of the log in position order, after a position; `next` is the position to ask after for the next page (null at the end)',
      tags: ['audit'],
      security: bearer,
      querystring: PageQuery,
      response: { 200: Type.Object({ events: Type.Array(Event), next: Type.Union([Type.Integer(), Type.Null()]) }), ...problems(409) },
    },
    handler: async (request) => {
      const limit = request.query.limit ?? 1000;
      const after = request.query.after ?? 0;
      const page = await logOf(service, scopeOf(request)).readAll({ fromPosition: after + 1, limit });
      // Nothing after it (for a tenant: of its own): at the log's end, or past it (refused).
      if (page.length === 0) await refusePastEnd(service.store, after);
      const last = page.at(-1)?.position;
      return { events: page, next: page.length < limit ? null : last! };
    },
  });

  r.get('/v1/events/stream', {
    config: { roles: AUDITORS, holds: holdsTail },
    schema: {
      summary: 'The log live, as server-sent events: `id:` is the position (resume with Last-Event-ID), `data:` the event; a comment every 15 s; a client too slow to read is dropped',
      tags: ['audit'],
      security: bearer,
      querystring: TailQuery,
      response: { 200: Type.String({ description: 'text/event-stream' }), ...problems(409, 429) },
    },
    handler: async (request, reply) => {
      const scope = scopeOf(request);
      const after = await tailStart(request, { tenant: scope.tenant, changes: service.changes, log: service.store }, request.query.after);
      reply.hijack();
      await liveTail(request, reply.raw, { store: logOf(service, scope), changes: service.changes, after, visible: everything, stillAuthorized: stillAuthorized(service, request), ...tail });
    },
  });

  r.get('/v1/verify', {
    config: { roles: AUDITORS },
    schema: {
      summary: 'The log verified as `hotpatch verify --json` verifies it: every transition allowed, every hash chained, each stream’s head, its seals (signatures checked with the service’s key when it seals); the digest when it is clean',
      tags: ['audit'],
      security: bearer,
      response: {
        200: Type.Object({
          ok: Type.Boolean(),
          events: Type.Integer(),
          streams: Type.Integer(),
          digest: Type.Optional(Type.String()),
          seals: Type.Optional(Seals),
          problems: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), implies: Type.Optional(Type.String()) })),
        }),
        ...problems(),
      },
    },
    handler: async (request) => {
      const scope = scopeOf(request);
      const store = service.store as EventStore & { streamHeads?(): Promise<Array<[string, string]>> };
      // As `hotpatch verify`: service-wide the whole log, its seals checked with the service's key when it seals (a
      // seal vouches for the whole log); bound to a tenant, `verify --tenant T` (its streams as stored).
      const serviceWide = scope.serviceWide;
      const sealKey = serviceWide ? service.seals?.key.publicKey : undefined;
      const verification = new StoreVerification(serviceWide ? (sealKey ? { sealKey } : {}) : { tenant: scope.tenant.name });
      for await (const page of readLogPages(store, { pageSize: 1000 })) verification.add(page);
      if (store.streamHeads) verification.checkHeads(await store.streamHeads());
      if (serviceWide) await verification.checkSeals(store);
      const { streamStates, ...result } = verification.result();
      const seals = serviceWide ? sealsJson(result.seals) : undefined;
      const digest = result.ok && result.hashed ? logDigest(streamStates.map((s) => [s.stream, s.hash!] as const)) : undefined;
      return {
        ok: result.ok,
        events: result.events,
        streams: result.streams,
        ...(digest !== undefined ? { digest } : {}),
        ...(seals !== undefined ? { seals } : {}),
        problems: result.problems.map((p) => ({ code: p.code, message: p.message, ...(result.implications.has(p) ? { implies: result.implications.get(p)! } : {}) })),
      };
    },
  });
}
