/**
 * A named tenant's event ids as the log stores them. Ids are unique across the log (the stores' index, `verify`),
 * but two tenants mean the same things: the same releases (a rollout's ids are derived from its release and date),
 * devices of the same names, the same command ids from one agent build. The orchestrator derives every id it
 * writes from such names, so two tenants' fleets would write the same ids, and the second one's writes be refused
 * (EventIdTakenError) — and a tenant could learn from that refusal what another tenant holds. So a tenant's view
 * stores each id it is given with 72 of its bits exclusive-or'ed with a mask of the tenant's own, and gives it back
 * unmasked: a tenant reads the ids it wrote, and the same id in two tenants is two ids in the log.
 *
 * Kept as they are: the first 48 bits (a UUIDv7's or a timed name-based id's time, so that ids written together
 * still lie together in the stores' index and `timeOfId` reads the same time), the version digit and the variant
 * digit. The default tenant's ids are stored as given (every log written before tenants, unchanged). The mask is
 * SHA-256 of the tenant's name (and of a key, where the caller gives one): without a key anyone who knows a tenant's
 * name can compute its mask, which prevents collisions, not a deliberate probe with a crafted id; a service whose
 * tenants choose ids (report ids) and must not learn whether another tenant holds one passes a secret key, the same
 * for the life of its store.
 */
import { createHash, createHmac } from 'node:crypto';
import { isLowerUuid } from '@hotpatch/core';

/** An id's hex digits the mask changes: all but the time (0–7, 9–12), the version (14) and the variant (19) digits, and the dashes. */
const MASKED = [15, 16, 17, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35];
const HEX = '0123456789abcdef';

/** A tenant's id mapping: `stored` from what the tenant gives, `local` from what the log holds (each other's inverse). */
export interface TenantIds {
  stored(id: string): string;
  local(id: string): string;
}

const same: TenantIds = { stored: (id) => id, local: (id) => id };

/** The mapping of a tenant's event ids (the identity for the default tenant: `tenant` undefined). */
export function tenantIds(tenant: string | undefined, key?: string | Buffer): TenantIds {
  if (tenant === undefined) return same;
  const digest = key === undefined ? createHash('sha256').update(`hotpatch tenant event ids\0${tenant}`).digest() : createHmac('sha256', key).update(`hotpatch tenant event ids\0${tenant}`).digest();
  const mask = MASKED.map((_, i) => (digest[i]! & 0x0f));
  // An involution: x ^ m ^ m = x. Ids that are not lower-case UUIDs go through as they are (the store refuses them).
  const flip = (id: string): string => {
    if (!isLowerUuid(id)) return id;
    const chars = id.split('');
    for (let i = 0; i < MASKED.length; i++) {
      const at = MASKED[i]!;
      chars[at] = HEX[HEX.indexOf(chars[at]!) ^ mask[i]!]!;
    }
    return chars.join('');
  };
  return { stored: flip, local: flip };
}
