/**
 * The tenant rule: a tenant is a fleet of its own (its devices, rings, rollouts and policy) in one store, its
 * streams named `tenant/<tenant>/<kind>/<id>` (see stream-name.ts). A tenant's name keeps the id rule
 * (stream-id.ts), holds no `/` (it ends at the first one in a stream's name) and is at most 64 characters long;
 * `default` is reserved: it names the default tenant, whose streams carry no prefix (every log written before
 * tenants, unchanged).
 */
import { HotpatchError } from './errors.js';
import { expecting } from './schema.js';
import { ID_FORBIDDEN_CLASS, idProblem, quoteId } from './stream-id.js';
import { Type } from './typebox.js';

/** The name that means the default tenant (streams without a prefix). */
export const DEFAULT_TENANT = 'default';
/** The longest tenant name, in UTF-16 units (every allowed character of 64 is at most 128 of them). */
export const MAX_TENANT_LENGTH = 64;
/** The rule in words, for messages and docs. */
export const TENANT_RULE = `a non-empty name of at most ${MAX_TENANT_LENGTH} characters, without "/", a control character, a Unicode bidirectional control or a lone surrogate ("${DEFAULT_TENANT}" names the default tenant)`;

/** A tenant's name as a schema (`default` included: it names the default tenant), for what names one (a token's scope). */
export const TenantNameSchema = expecting(
  TENANT_RULE,
  Type.String({ minLength: 1, maxLength: MAX_TENANT_LENGTH, pattern: `^[^/${ID_FORBIDDEN_CLASS}]*$`, description: `A tenant: ${TENANT_RULE}.` }),
);

/** A named tenant's stream prefix `tenant/<tenant>/` as a regular expression (`u` flag: code points counted), for the schemas. */
export const TENANT_PREFIX_PATTERN = `tenant/(?!${DEFAULT_TENANT}/)[^/${ID_FORBIDDEN_CLASS}]{1,${MAX_TENANT_LENGTH}}/`;

/** What is wrong with a named tenant (`default` excluded: it is no named tenant), or undefined when it keeps the rule. */
export function tenantProblem(tenant: unknown): string | undefined {
  const problem = idProblem(tenant);
  if (problem !== undefined && !/ characters long$/.test(problem)) return problem;
  const text = tenant as string;
  if ([...text].length > MAX_TENANT_LENGTH) return `is ${[...text].length} characters long`;
  const slash = text.indexOf('/');
  if (slash >= 0) return `holds "/" at character ${[...text.slice(0, slash)].length + 1}`;
  if (text === DEFAULT_TENANT) return `is "${DEFAULT_TENANT}", which names the default tenant (streams without a prefix)`;
  return undefined;
}

/** A tenant name that breaks the tenant rule; nothing was read or written. */
export class InvalidTenantError extends HotpatchError {
  readonly code = 'INVALID_TENANT';
  constructor(
    readonly tenant: string,
    /** What breaks the rule (`holds "/" at character 3`, `is empty`). */
    readonly problem: string,
  ) {
    super(`tenant ${quoteId(tenant)} ${problem}; a tenant is ${TENANT_RULE}`);
  }
}

/** Throws InvalidTenantError unless `tenant` is a named tenant that keeps the rule. */
export function checkTenant(tenant: unknown): asserts tenant is string {
  const problem = tenantProblem(tenant);
  if (problem !== undefined) throw new InvalidTenantError(typeof tenant === 'string' ? tenant : String(tenant), problem);
}

/**
 * A tenant as a caller gives it (a `--tenant` flag, an option): undefined or `default` for the default tenant
 * (undefined returned), else a named tenant, checked (InvalidTenantError).
 */
export function namedTenant(tenant: string | undefined): string | undefined {
  if (tenant === undefined || tenant === DEFAULT_TENANT) return undefined;
  checkTenant(tenant);
  return tenant;
}
