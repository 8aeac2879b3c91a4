/**
 * Reading the fleet: its status (what `hotpatch status --json` prints, from the same fleetStatus), a device (its
 * state and history, as `hotpatch history --device --json`), a rollout's progress. Operators, tenant admins and
 * auditors; an agent reads its own device.
 */
import { expecting, Type } from '@hotpatch/core';
import { fleetStatus } from '@hotpatch/fleet';
import type { FastifyInstance } from 'fastify';
import { scopeOf } from '../access.js';
import { tenantDeviceHistory } from '../device-history.js';
import { HttpProblem } from '../problem.js';
import { bearer, IdParams, problems } from '../schemas.js';
import type { HotpatchService } from '../service.js';
import type { TypeBoxTypeProvider } from '../validation.js';

const READERS = ['operator', 'tenant-admin', 'auditor'] as const;
const Document = (description: string) => Type.Object({}, { additionalProperties: true, description });
const TargetQuery = Type.Object({ target: Type.Optional(expecting('a share above 0 and at most 1', Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'The compliance target, a share (default 0.95).' }))) }, { additionalProperties: false });

export function readRoutes(app: FastifyInstance, service: HotpatchService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  /** The fleet's status as of the log's last event, the projection caught up with the log first. */
  const statusOf = async (request: Parameters<typeof scopeOf>[0], target = 0.95) => {
    const { orchestrator } = scopeOf(request).tenant;
    await orchestrator.sync();
    const projection = orchestrator.projection;
    return fleetStatus(projection, projection.latestTime || service.clock.now().toISOString(), target);
  };

  r.get('/v1/status', {
    config: { roles: READERS },
    schema: {
      summary: 'The fleet’s status: compliance, each rollout ring by ring, exposure per release, paused rings, healed instructions (the document `hotpatch status --json` prints)',
      tags: ['read'],
      security: bearer,
      querystring: TargetQuery,
      response: { 200: Document('FleetStatus (packages/fleet/src/report.ts); the figures are defined in docs/domain.md'), ...problems() },
    },
    handler: async (request) => statusOf(request, request.query.target),
  });

  r.get('/v1/devices/:id', {
    config: { roles: [...READERS, 'agent'], device: (request) => (request.params as { id: string }).id },
    schema: {
      summary: 'A device’s state and history: each of its events with its state before and after (as `hotpatch history --device --json`)',
      tags: ['read'],
      security: bearer,
      params: IdParams,
      response: { 200: Type.Object({ device: Document('DeviceView, as `hotpatch replay --json` gives it'), history: Type.Array(Document('an event with the state before and after it')) }), ...problems(404) },
    },
    handler: async (request) => {
      const { tenant } = scopeOf(request);
      const id = request.params.id;
      const history = await tenantDeviceHistory(tenant, id);
      if (history.length === 0) throw new HttpProblem(404, 'UNKNOWN_DEVICE', `no device ${id}`, { device: id });
      return { device: history.at(-1)!.after, history };
    },
  });

  r.get('/v1/rollouts/:id', {
    config: { roles: READERS },
    schema: {
      summary: 'A rollout’s progress ring by ring (its entry in the status’s rollouts)',
      tags: ['read'],
      security: bearer,
      params: IdParams,
      response: { 200: Document('RolloutProgress (packages/fleet/src/report.ts)'), ...problems(404) },
    },
    handler: async (request) => {
      const status = await statusOf(request);
      const rollout = status.rollouts.find((r) => r.rollout === request.params.id);
      if (rollout === undefined) throw new HttpProblem(404, 'UNKNOWN_ROLLOUT', `no rollout ${request.params.id}`, { rollout: request.params.id });
      return rollout;
    },
  });
}
