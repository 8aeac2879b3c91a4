/**
 * `hotpatch token create|revoke`: the service's tokens, written into its store. A token is printed once; the store
 * keeps its role, scope and the SHA-256 of its secret (stream `token/<id>`).
 */
import { checkId, DEFAULT_TENANT, TOKEN_ROLES, tokenStream, type TokenRole } from '@hotpatch/core';
import { onePositional, parse, UsageError, type CommandSpec } from '../args.js';
import { json } from '../format.js';
import { openEventStore, parseStoreSource, makesStore, removeStore, type StoreSource } from '../store-source.js';
import { NotAStoreError, type EventStore } from '@hotpatch/store';

export const tokenCommand: CommandSpec = {
  name: 'token',
  summary: 'make or revoke a token of the service (agent, operator, tenant-admin, auditor)',
  usage: `hotpatch token create --role agent|operator|tenant-admin|auditor [--tenant T] [--device D] --store <source> [--json]
hotpatch token revoke ID --store <source> [--reason TEXT] [--json]

  create prints the token (hp_<id>_<secret>) once, {"token": …, "id": …} with --json: only its hash is stored.
  An agent's token is bound to a tenant and a device (--device D; --tenant defaults to "${DEFAULT_TENANT}"); a
  tenant admin's to a tenant (default "${DEFAULT_TENANT}"); an operator's to neither (it acts for the service); an
  auditor's to a tenant (--tenant) or to none (the whole service).
  revoke ID (the id in the token's text, after hp_) refuses the token from now on, on every instance.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      store: { type: 'string' },
      role: { type: 'string' },
      tenant: { type: 'string' },
      device: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [action, ...rest] = positionals;
    if (action !== 'create' && action !== 'revoke') throw new UsageError(action === undefined ? 'missing create or revoke' : `unknown action ${JSON.stringify(action)}: create or revoke`);
    if (values.store === undefined) throw new UsageError('--store <source> is required (the service’s store)');
    const source = parseStoreSource(values.store as string);
    if (action === 'create') {
      if (rest.length) throw new UsageError(`unexpected argument: ${rest[0]}`);
      const role = values.role as string | undefined;
      if (!TOKEN_ROLES.includes(role as TokenRole)) throw new UsageError(`--role: expected one of ${TOKEN_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
      const bound = role === 'agent' || role === 'tenant-admin';
      const tenant = (values.tenant as string | undefined) ?? (bound ? DEFAULT_TENANT : undefined);
      const device = values.device as string | undefined;
      if (tenant !== undefined) checkId('tenant' as never, tenant);
      if (device !== undefined) checkId('device', device);
      if (values.reason !== undefined) throw new UsageError('--reason applies to revoke');
      const { checkTokenScope, issueToken } = await serverPackage();
      const scope = { role: role as TokenRole, ...(tenant !== undefined ? { tenant } : {}), ...(device !== undefined ? { device } : {}) };
      // Refused before the store is opened: over PostgreSQL, opening it to write makes its schema.
      checkTokenScope(scope);
      // A token for a store that is not there yet makes it (tokens before the first start); a refused one leaves none.
      await writing(source, async (store) => {
        const { id, token } = await issueToken(store, scope, { source: 'hotpatch-cli' });
        io.out(values.json ? json({ token, id, role, ...(tenant !== undefined ? { tenant } : {}), ...(device !== undefined ? { device } : {}) }) : token);
      });
      return;
    }
    const id = onePositional(rest, 'token id');
    for (const option of ['role', 'tenant', 'device'] as const) if (values[option] !== undefined) throw new UsageError(`--${option} applies to create`);
    const { revokeToken, UnknownTokenError } = await serverPackage();
    // A whole token names its id; what follows the id (the secret, a CR or newline pasted with it) is not looked at.
    // Only the id is said back: a whole token's secret is not echoed to a terminal or a log.
    const tokenId = id.replace(/^hp_([0-9a-f]{16})_[\s\S]*$/, '$1');
    // The token is looked for before the store is opened to write (over PostgreSQL, that makes its schema).
    if (!(await holdsToken(source, tokenId))) throw new UnknownTokenError(tokenId);
    await writing(source, async (store) => {
      const { revoked } = await revokeToken(store, tokenId, values.reason as string | undefined);
      io.out(values.json ? json({ id: tokenId, revoked }) : revoked ? `token ${tokenId} revoked` : `token ${tokenId} was revoked before: nothing written`);
    });
  },
};

/** Runs `work` on the store open for writing, closes it, and takes back a SQLite file it made when `work` failed. */
async function writing(source: StoreSource, work: (store: EventStore) => Promise<void>): Promise<void> {
  const made = await makesStore(source);
  const store = await openEventStore(source);
  try {
    await work(store);
  } catch (error) {
    await store.close();
    if (made && source.kind === 'sqlite') await removeStore(source);
    throw error;
  }
  await store.close();
}

/** Whether the store holds the token, read without making or migrating a store: none there holds none. */
async function holdsToken(source: StoreSource, tokenId: string): Promise<boolean> {
  if (await makesStore(source)) return false;
  let store: EventStore | undefined;
  try {
    store = await openEventStore(source, { readonly: true });
    return (await store.streamVersion(tokenStream(tokenId))) > 0;
  } catch (error) {
    if (error instanceof NotAStoreError) return false;
    throw error;
  } finally {
    await store?.close();
  }
}

/** The service's package (Fastify and all), loaded only by the commands that use it: every other command starts without it. */
const serverPackage = () => import('@hotpatch/server');
