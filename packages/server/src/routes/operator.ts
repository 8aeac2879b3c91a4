/**
 * Changing the fleet: an operator plans releases' rollouts; an operator (as the service) or a tenant admin (as the
 * tenant) pauses and resumes rollouts and rings. The machines decide: the service cannot lift the tenant's pause.
 */
import { NonEmptyString, Type, type RingState, type RolloutState } from '@hotpatch/core';
import { asRelease, ReleaseToRollSchema } from '@hotpatch/fleet';
import type { FastifyInstance } from 'fastify';
import { scopeOf } from '../access.js';
import { bearer, EventId, IdParams, NameParams, problems } from '../schemas.js';
import type { TypeBoxTypeProvider } from '../validation.js';

const PauseBody = Type.Object({ reason: NonEmptyString, id: Type.Optional(EventId) }, { additionalProperties: false });
const ResumeBody = Type.Object({ id: Type.Optional(EventId) }, { additionalProperties: false });
const PausedSchema = Type.Object({ state: Type.String(), pausedBy: Type.Array(Type.String()) });
const PAUSERS = ['operator', 'tenant-admin'] as const;

export function operatorRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/v1/rollouts', {
    config: { roles: ['operator'] },
    schema: {
      summary: 'Plan a release’s rollout through the policy’s rings (planning it again does nothing; another release under the same id, 409)',
      tags: ['operator'],
      security: bearer,
      body: ReleaseToRollSchema,
      response: { 201: Type.Object({ rollout: Type.String() }), ...problems(409) },
    },
    handler: async (request, reply) => {
      const rollout = await scopeOf(request).tenant.orchestrator.planRollout(asRelease(request.body));
      return reply.code(201).send({ rollout });
    },
  });

  const rolloutState = (state: RolloutState) => ({ state: state.value, pausedBy: [...state.context.pausedBy] });
  const ringState = (state: RingState | undefined) => ({ state: state?.value ?? 'open', pausedBy: state?.context.holds.map((h) => h.by) ?? [] });

  for (const action of ['pause', 'resume'] as const) {
    r.post(`/v1/rollouts/:id/${action}`, {
      config: { roles: PAUSERS },
      schema: {
        summary: `${action === 'pause' ? 'Pause' : 'Lift the caller’s pause of'} a rollout, as the service (operator) or the tenant (tenant admin)`,
        tags: ['operator', 'tenant-admin'],
        security: bearer,
        params: IdParams,
        body: action === 'pause' ? PauseBody : ResumeBody,
        response: { 200: PausedSchema, ...problems(404, 409) },
      },
      handler: async (request) => {
        const { tenant, party } = scopeOf(request);
        const body = request.body as { reason?: string; id?: string };
        const id = request.params.id;
        if (action === 'pause') await tenant.orchestrator.pause(id, party, body.reason!, body.id);
        else await tenant.orchestrator.resume(id, party, body.id);
        return rolloutState(tenant.orchestrator.projection.rollouts.get(id)!.state);
      },
    });
    r.post(`/v1/rings/:name/${action}`, {
      config: { roles: PAUSERS },
      schema: {
        summary: `${action === 'pause' ? 'Pause' : 'Lift the caller’s pause of'} a ring whatever the release, as the service (operator) or the tenant (tenant admin)`,
        tags: ['operator', 'tenant-admin'],
        security: bearer,
        params: NameParams,
        body: action === 'pause' ? PauseBody : ResumeBody,
        response: { 200: PausedSchema, ...problems(404, 409) },
      },
      handler: async (request) => {
        const { tenant, party } = scopeOf(request);
        const body = request.body as { reason?: string; id?: string };
        const name = request.params.name;
        if (action === 'pause') await tenant.orchestrator.pauseRing(name, party, body.reason!, body.id);
        else await tenant.orchestrator.resumeRing(name, party, body.id);
        return ringState(tenant.orchestrator.projection.ringPauses.get(name)?.state);
      },
    });
  }
}
