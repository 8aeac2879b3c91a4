/**
 * Tokens over HTTP: an operator issues any token (an agent's, when a device is provisioned) and revokes any; a tenant
 * admin issues and revokes agent and auditor tokens of its own tenant only. A token's text is in the answer once;
 * the log keeps its hash (tokens.ts).
 */
import { StreamIdSchema, TenantNameSchema, Text, TokenRoleSchema, Type, type TokenState } from '@hotpatch/core';
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../problem.js';
import { bearer, problems } from '../schemas.js';
import type { HotpatchService } from '../service.js';
import { DEFAULT_TENANT } from '../tenants.js';
import { issueToken, revokeToken, type Caller } from '../tokens.js';
import type { TypeBoxTypeProvider } from '../validation.js';

const TokenRequest = Type.Object(
  {
    role: TokenRoleSchema,
    tenant: Type.Optional(TenantNameSchema),
    device: Type.Optional(StreamIdSchema),
  },
  { additionalProperties: false },
);
const TokenIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$', description: 'The token’s id (16 hex digits).' }) }, { additionalProperties: false });
const IssuedSchema = Type.Object({ id: Type.String(), token: Type.String({ description: 'Shown once: the log keeps only its hash.' }) });
const RevokeQuery = Type.Object({ reason: Type.Optional(Text) }, { additionalProperties: false });

/** The roles a tenant admin may hand out, always bound to its own tenant. */
const TENANT_ISSUES = ['agent', 'auditor'];

export function tokenRoutes(app: FastifyInstance, service: HotpatchService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/v1/tokens', {
    config: { roles: ['operator', 'tenant-admin'] },
    schema: {
      summary: 'Issue a token (an operator: any; a tenant admin: agent or auditor tokens of its tenant); its text is in this answer only',
      tags: ['operator', 'tenant-admin'],
      security: bearer,
      body: TokenRequest,
      response: { 201: IssuedSchema, ...problems() },
    },
    handler: async (request, reply) => {
      const caller = request.caller!;
      const body = request.body;
      // As `hotpatch token create`: an agent's or tenant admin's token without a tenant is the default tenant's.
      let scope = body.tenant === undefined && (body.role === 'agent' || body.role === 'tenant-admin') ? { ...body, tenant: DEFAULT_TENANT } : body;
      if (caller.role === 'tenant-admin') {
        if (!TENANT_ISSUES.includes(body.role)) throw new HttpProblem(403, 'ROLE_NOT_ALLOWED', `a tenant admin may issue agent and auditor tokens, not ${body.role} tokens`, { role: body.role, allowed: TENANT_ISSUES });
        if (body.tenant !== undefined && body.tenant !== caller.tenant) throw new HttpProblem(404, 'UNKNOWN_TENANT', `this service serves no tenant ${body.tenant}`, { tenant: body.tenant });
        scope = { ...body, tenant: caller.tenant! };
      }
      const issued = await issueToken(service.store, scope, { ...service.meta, issuedBy: caller.tokenId });
      return reply.code(201).send(issued);
    },
  });

  r.delete('/v1/tokens/:id', {
    config: { roles: ['operator', 'tenant-admin'] },
    schema: {
      summary: 'Revoke a token for good (a tenant admin: its tenant’s tokens only); revoking it again changes nothing',
      tags: ['operator', 'tenant-admin'],
      security: bearer,
      params: TokenIdParams,
      querystring: RevokeQuery,
      response: { 200: Type.Object({ revoked: Type.Boolean({ description: 'false: it was revoked already' }) }), ...problems(404) },
    },
    handler: async (request) => {
      return revokeToken(service.store, request.params.id, request.query.reason, mayRevoke(request.caller!));
    },
  });
}

/** Whether the caller may revoke the token: an operator any, a tenant admin the agent and auditor tokens of its tenant (others look missing). */
const mayRevoke =
  (caller: Caller) =>
  ({ tenant, role }: TokenState['context']): boolean =>
    caller.role === 'operator' || (tenant === caller.tenant && role !== null && TENANT_ISSUES.includes(role));
