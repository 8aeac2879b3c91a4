/**
 * Stream names: `<kind>/<id>` — a device's lifecycle (`device/<id>`), a rollout's (`rollout/<id>`), a ring's pauses

 * (`ring/<name>`), a service token's (`token/<tokenId>`), the service's seals of the log (`seal/<name>`) — the
 * default tenant's devices, rollouts and rings, and a named tenant's under its prefix: `tenant/<tenant>/<kind>/<id>`
 * (tenant.ts). The one place that knows how a name is made and read.
 */
import { STREAM_KIND_NAMES, TENANT_KINDS, type StreamKindName } from './stream-kind.js';
import { tenantProblem } from './tenant.js';

export { STREAM_KIND_NAMES, TENANT_KINDS, type StreamKindName } from './stream-kind.js';

const PREFIX: Readonly<Record<StreamKindName, string>> = { device: 'device/', rollout: 'rollout/', ring: 'ring/', token: 'token/', seal: 'seal/' };

/** What every named tenant's stream begins with: `tenant/<tenant>/…`. */
export const TENANT_STREAM_PREFIX = 'tenant/';

/** What every stream name of a kind begins with (the default tenant's). */
export const streamPrefix = (kind: StreamKindName): string => PREFIX[kind];

/** What every stream of a named tenant begins with: `tenant/<tenant>/`. */
export const tenantStreamPrefix = (tenant: string): string => `${TENANT_STREAM_PREFIX}${tenant}/`;

/** A stream's name: `<kind>/<id>`, or `tenant/<tenant>/<kind>/<id>` for a named tenant (undefined or `default`: none; a kind of TENANT_KINDS). */
export function toStreamName(kind: StreamKindName, id: string, tenant?: string): string {
  return tenant === undefined || tenant === 'default' ? PREFIX[kind] + id : tenantStreamPrefix(tenant) + PREFIX[kind] + id;
}

/** A stream name read: its tenant (absent for the default tenant), kind and id. */
export interface StreamName {
  readonly tenant?: string;
  readonly kind: StreamKindName;
  readonly id: string;
}

/**
 * The tenant, kind and id of a stream name; undefined when it is not `<kind>/<id>` of a known kind with an id, or
 * `tenant/<tenant>/<kind>/<id>` with a tenant that keeps the tenant rule.
 */
export function fromStreamName(stream: string): StreamName | undefined {
  const tenant = tenantSegment(stream);
  if (tenant === null) return undefined;
  const local = tenant === undefined ? stream : stream.slice(TENANT_STREAM_PREFIX.length + tenant.length + 1);
  // Under a tenant's prefix, only the kinds a tenant holds: the service's tokens and seals are the log's.
  for (const kind of tenant === undefined ? STREAM_KIND_NAMES : TENANT_KINDS) {
    const id = idOfStream(kind, local);
    if (id !== undefined) return tenant === undefined ? { kind, id } : { tenant, kind, id };
  }
  return undefined;
}

/**
 * The named tenant of a stream (`tenant/<tenant>/…`); undefined for the default tenant's and for any name that is
 * not `tenant/<tenant>/…` with a tenant that keeps the rule.
 */
export function tenantOf(stream: string): string | undefined {
  return tenantSegment(stream) ?? undefined;
}

/**
 * Whether a stream of the log is a tenant's (verify, export, the tenant's view): a named tenant's are under its
 * prefix; the default tenant's (`tenant` undefined or `default`) are the devices, rollouts and rings without one —
 * not the service's own tokens and seals, which are the log's.
 */
export function isOfTenant(stream: string, tenant: string | undefined): boolean {
  if (tenant !== undefined && tenant !== 'default') return stream.startsWith(tenantStreamPrefix(tenant));
  for (const kind of TENANT_KINDS) if (stream.length > PREFIX[kind].length && stream.startsWith(PREFIX[kind])) return true;
  return false;
}

/** The name as its tenant calls it: `tenant/<tenant>/device/x` → `device/x`; any other name as it is. */
export function localStreamName(stream: string): string {
  const tenant = tenantSegment(stream);
  return typeof tenant === 'string' ? stream.slice(TENANT_STREAM_PREFIX.length + tenant.length + 1) : stream;
}

/** A name's tenant: undefined without the prefix, null for a `tenant/` name whose tenant breaks the rule. */
function tenantSegment(stream: string): string | undefined | null {
  if (!stream.startsWith(TENANT_STREAM_PREFIX)) return undefined;
  const end = stream.indexOf('/', TENANT_STREAM_PREFIX.length);
  if (end < 0) return null;
  const tenant = stream.slice(TENANT_STREAM_PREFIX.length, end);
  let valid = checkedTenants.get(tenant);
  if (valid === undefined) {
    if (checkedTenants.size >= 10_000) checkedTenants.clear();
    checkedTenants.set(tenant, (valid = tenantProblem(tenant) === undefined));
  }
  return valid ? tenant : null;
}

/** Tenant names already checked (a log holds few, and a replay reads each on every event of its streams). */
const checkedTenants = new Map<string, boolean>();

/** The id of a stream of this kind (the default tenant's: `<kind>/<id>`); undefined for a stream of another kind or tenant (or with no id). */
export function idOfStream(kind: StreamKindName, stream: string): string | undefined {
  const prefix = PREFIX[kind];
  return stream.length > prefix.length && stream.startsWith(prefix) ? stream.slice(prefix.length) : undefined;
}

export const deviceStream = (id: string): string => PREFIX.device + id;
export const rolloutStream = (id: string): string => PREFIX.rollout + id;
export const ringStream = (name: string): string => PREFIX.ring + name;
export const tokenStream = (id: string): string => PREFIX.token + id;
/** A seal stream of the service (`seal/log`): service-level, never a tenant's. */
export const sealStream = (name: string): string => PREFIX.seal + name;
/** The device id of a `device/<id>` stream, or undefined for another kind of stream (or another tenant's). */
export const deviceIdOf = (stream: string): string | undefined => idOfStream('device', stream);
