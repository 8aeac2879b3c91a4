/**
 * Who may call what, in one place: each route names the roles allowed in its config (`roles`) and, for an agent,
 * where the device it acts on is (`device`). A request is authenticated before its body is read (onRequest: the
 * token, then the role), and its device checked against the token's once the body is parsed (preHandler). A route
 * without `roles` is public (health, metrics, the OpenAPI document). The tenant a request acts on is its caller's
 * (`Tenants.resolve`): a caller bound to a tenant, its own; an operator or a service-wide auditor, the one its
 * `Hotpatch-Tenant` header names (default `default`).
 */
import { Type, type TokenRole } from '@hotpatch/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';
import type { HotpatchService } from './service.js';
import { TENANT_HEADER, type Scope } from './tenants.js';
import { authenticate, type Caller } from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The roles that may call the route; absent: public. */
    roles?: readonly TokenRole[];
    /** The device the request acts on, for the check of an agent's token against it. */
    device?: (request: FastifyRequest) => string | undefined;
  }
  interface FastifyRequest {
    caller: Caller | null;
    scope: Scope | null;
  }
}

/** The scope of an authenticated request (every route with roles has one). */
export function scopeOf(request: FastifyRequest): Scope {
  if (request.scope === null) throw new Error(`route ${request.routeOptions.url} has no roles: it has no scope`);
  return request.scope;
}

/** Whether a route's callers may name the tenant they act on (an operator's or a service-wide auditor's may). */
export const takesTenantHeader = (roles: readonly TokenRole[] | undefined): boolean => roles !== undefined && (roles.includes('operator') || roles.includes('auditor'));

/** The `Hotpatch-Tenant` header, as the OpenAPI document declares it on the routes that take it. */
const TenantHeader = Type.Object({
  [TENANT_HEADER]: Type.Optional(
    Type.String({
      description:
        'The tenant an operator or a service-wide auditor acts on (default: `default`); a caller bound to a tenant acts on its own, and another tenant named answers 404 UNKNOWN_TENANT, as a tenant that does not exist does.',
    }),
  ),
});

/** Whether the token a request was authenticated with still holds (a tail, one long request, asks before each page). */
export const stillAuthorized = (service: HotpatchService, request: FastifyRequest) => (): Promise<boolean> =>
  authenticate(service.store, request.headers.authorization).then(
    () => true,
    () => false,
  );

/** How many Authorization headers a request came with (raw headers: names and values, one after the other). */
function authorizationHeaders(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') count++;
  return count;
}

export function accessControl(app: FastifyInstance, service: HotpatchService): void {
  // Declared where the access rules are: every route an operator or an auditor may call takes the tenant header.
  app.addHook('onRoute', (route) => {
    if (!takesTenantHeader(route.config?.roles) || route.schema?.headers !== undefined) return;
    route.schema = { ...route.schema, headers: TenantHeader };
  });
  app.decorateRequest('caller', null);
  app.decorateRequest('scope', null);
  // A callback, not an async function: the token's read is the one thing to wait for, and the tenant is made already
  // for every request but its first (no promise of the hook's own, nor the tenant's).
  app.addHook('onRequest', (request, _reply, done) => {
    const roles = request.routeOptions.config.roles;
    if (roles === undefined) return done();
    // Node keeps the first of two Authorization headers; a proxy in front may keep the last: which token speaks for
    // the request would depend on who reads it. One header, or none.
    if (authorizationHeaders(request.raw.rawHeaders) > 1) return done(new HttpProblem(401, 'UNAUTHORIZED', 'more than one Authorization header: send one, "Authorization: Bearer hp_…"'));
    authenticate(service.store, request.headers.authorization)
      .then((caller) => {
        if (!roles.includes(caller.role)) {
          throw new HttpProblem(403, 'ROLE_NOT_ALLOWED', `a token of role ${caller.role} may not call ${request.method} ${request.routeOptions.url}; allowed: ${roles.join(', ')}`, {
            role: caller.role,
            allowed: roles,
          });
        }
        request.caller = caller;
        const named = request.headers[TENANT_HEADER];
        const requested = typeof named === 'string' && named !== '' ? named : undefined;
        const scope = service.tenants.resolveNow(caller, requested);
        if (scope !== undefined) {
          request.scope = scope;
          return;
        }
        return service.tenants.resolve(caller, requested).then((made) => {
          request.scope = made;
        });
      })
      .then(() => done(), done);
  });
  // A callback, not an async function: nothing to wait for, and no promise per request.
  app.addHook('preHandler', (request, _reply, done) => {
    const device = request.routeOptions.config.device?.(request);
    const caller = request.caller;
    if (device === undefined || caller === null || caller.role !== 'agent' || device === caller.device) return done();
    done(new HttpProblem(403, 'DEVICE_NOT_ALLOWED', `this agent token is bound to device ${caller.device}, not ${device}`, { device, tokenDevice: caller.device }));
  });
}
