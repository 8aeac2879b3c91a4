/**
 * How a tenant sees the log, as pure functions: which stored streams are its own, a stream's local name (`device/x`)
 * and its stored one (`tenant/<tenant>/device/x`), and an event either way, ids included (tenant-ids.ts). A tenant's
 * view of a store (scope.ts) is built on it, and so are the commands that read one tenant out of a whole log.
 */
import { fromStreamName, isOfTenant, namedTenant, TENANT_KINDS, TENANT_STREAM_PREFIX, tenantStreamPrefix } from '@hotpatch/core';
import { tenantIds, type TenantIds } from './tenant-ids.js';
import type { RecordedEvent } from './types.js';

export interface TenantLens {
  /** The named tenant; undefined for the default tenant. */
  readonly tenant: string | undefined;
  /** What its streams' stored names begin with ('' for the default tenant). */
  readonly prefix: string;
  readonly ids: TenantIds;
  /**
   * Whether a stored stream is the tenant's: under its prefix for a named tenant; for the default tenant, a stream of
   * a kind a tenant holds (device, rollout, ring) without a prefix (not the service's own kinds, not another's).
   */
  mine(stream: string): boolean;
  /** A local name's stored name; undefined for a name that is not one of a tenant's streams (`tenant/…`, another kind). */
  stored(local: string): string | undefined;
  /** A stored stream's local name; undefined when it is not the tenant's. */
  local(stream: string): string | undefined;
  /** An event of the log as the tenant sees it (its local name and id); undefined when it is not the tenant's. */
  localEvent<E extends Pick<RecordedEvent, 'stream' | 'id'>>(event: E): E | undefined;
  /** An event of the tenant as the log holds it: what its hash covers. */
  storedEvent<E extends Pick<RecordedEvent, 'stream' | 'id'>>(event: E): E;
}

/** The lens of a tenant (undefined or `default`: the default tenant; InvalidTenantError for a name that breaks the rule). */
export function tenantLens(tenant: string | undefined, options: { readonly idKey?: string | Buffer } = {}): TenantLens {
  const named = namedTenant(tenant);
  const prefix = named === undefined ? '' : tenantStreamPrefix(named);
  const ids = tenantIds(named, options.idKey);
  const mine = (stream: string): boolean => isOfTenant(stream, named);
  return {
    tenant: named,
    prefix,
    ids,
    mine,
    stored(local) {
      if (typeof local !== 'string' || local.startsWith(TENANT_STREAM_PREFIX)) return undefined;
      const name = fromStreamName(local);
      return name !== undefined && TENANT_KINDS.includes(name.kind) ? prefix + local : undefined;
    },
    local: (stream) => (mine(stream) ? stream.slice(prefix.length) : undefined),
    localEvent(event) {
      if (!mine(event.stream)) return undefined;
      return named === undefined ? event : { ...event, stream: event.stream.slice(prefix.length), id: ids.local(event.id) };
    },
    storedEvent: (event) => (named === undefined ? event : { ...event, stream: prefix + event.stream, id: ids.stored(event.id) }),
  };
}
