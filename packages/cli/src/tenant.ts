/**
 * `--tenant T`: a command works on one tenant's fleet of a log that several share (docs/tenants.md). Without it,
 * the default tenant's (the streams without a prefix); `verify` then checks the whole log.
 */
import { namedTenant, quoteText, type HotpatchEvent } from '@hotpatch/core';
import { tenantLens } from '@hotpatch/store';

/** The option, for parse(). */
export const TENANT_OPTION = { tenant: { type: 'string' } } as const;

/** The usage's line for it. */
export const TENANT_USAGE = `--tenant T: one tenant's fleet of a log that several share (its streams tenant/T/…); without it, the default
  tenant's (the streams without a prefix).`;

/** --tenant's value: a named tenant, or undefined for the default one (`default` or none); InvalidTenantError (exit 1) for a name that breaks the rule. */
export function tenantFlag(value: unknown): string | undefined {
  return namedTenant(value as string | undefined);
}

/** A named tenant of which a source holds nothing: a mistaken name, most likely. */
export function noTenant(tenant: string, source: string): string {
  return `no tenant ${quoteText(tenant)} in ${source}: it holds none of its events`;
}

/** How a message names what was read: the source, and the tenant when it is a named one. */
export function ofTenant(source: string, tenant: string | undefined): string {
  return tenant === undefined ? source : `${source} (tenant ${quoteText(tenant)})`;
}

/**
 * A page of a log as a named tenant reads it: its events alone, named and identified as its own (`device/x`, the
 * ids it gave), without hashes (they cover the names as stored: `verify --tenant` checks them). Undefined for the
 * default tenant, whose events are read as they are.
 */
export function tenantReader(tenant: string | undefined): (<E extends HotpatchEvent>(events: readonly E[]) => E[]) | undefined {
  if (tenant === undefined) return undefined;
  const lens = tenantLens(tenant);
  return <E extends HotpatchEvent>(events: readonly E[]): E[] => {
    const mine: E[] = [];
    for (const e of events) {
      const local = lens.localEvent(e);
      if (local === undefined) continue;
      const { hash: _hash, ...unhashed } = local;
      mine.push(unhashed as E);
    }
    return mine;
  };
}

/** A tenant's events alone, as `tenantReader` reads them; for the default tenant, the streams without a prefix. */
export function tenantEvents(tenant: string | undefined): <E extends HotpatchEvent>(events: readonly E[]) => E[] {
  const lens = tenantLens(tenant);
  return tenantReader(tenant) ?? (<E extends HotpatchEvent>(events: readonly E[]) => events.filter((e) => lens.mine(e.stream)));
}
