/**
 * Service tokens: `hp_<tokenId>_<secret>`, the secret 32 random bytes (base64url), shown once. The log keeps the
 * token's role, scope and the secret's SHA-256 in its stream `token/<tokenId>` (issued, then perhaps revoked): a
 * token is looked up by its id and its secret compared by hash, in constant time. Every instance over the log sees
 * a revocation at the next request.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { checkTenant, DEFAULT_TENANT, HotpatchError, InvalidTenantError, tokenRules, TransitionRefusedError, tokenStream, type TokenRole, type TokenState } from '@hotpatch/core';
import { readLog, sha256Bytes as sha256, WrongExpectedVersionError, type EventStore, type StreamStateRead } from '@hotpatch/store';
import { HttpProblem } from './problem.js';

const TOKEN = /^hp_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface TokenScope {
  readonly role: TokenRole;
  readonly tenant?: string;
  readonly device?: string;
}

/** Who a request speaks for: its token's id, role and scope. */
export interface Caller {
  readonly tokenId: string;
  readonly role: TokenRole;
  readonly tenant: string | null;
  readonly device: string | null;
}

/** A scope that does not fit its role (an agent without its device, an operator bound to a tenant…): nothing written. */
export class InvalidTokenScopeError extends HotpatchError {
  readonly code = 'INVALID_TOKEN_SCOPE';
  constructor(readonly role: TokenRole) {
    super(
      {
        agent: 'an agent token is bound to a tenant and a device (--tenant T --device D)',
        'tenant-admin': 'a tenant-admin token is bound to a tenant (--tenant T) and no device',
        operator: 'an operator token acts for the service: no --tenant, no --device',
        auditor: 'an auditor token reads the whole service or one tenant (--tenant T), never one device',
      }[role],
    );
  }
}

export class UnknownTokenError extends HotpatchError {
  readonly code = 'UNKNOWN_TOKEN';
  constructor(readonly tokenId: string) {
    super(`no token ${tokenId}`);
  }
}


/**
 * What issueToken refuses of a scope, found before anything is read or written (a command line checks it before it
 * opens the store): a tenant that breaks the tenant rule or that no header could name, a scope that does not fit its role.
 */
export function checkTokenScope(scope: TokenScope): void {
  if (scope.tenant !== undefined) {
    // A tenant is named in a Hotpatch-Tenant header, whose value HTTP trims: " acme" could never be named there.
    if (/^ | $/.test(scope.tenant)) throw new InvalidTenantError(scope.tenant, 'begins or ends with a space, which the Hotpatch-Tenant header cannot carry (HTTP trims it)');
    if (scope.tenant !== DEFAULT_TENANT) checkTenant(scope.tenant);
  }
  const data = { role: scope.role, ...(scope.tenant !== undefined ? { tenant: scope.tenant } : {}), ...(scope.device !== undefined ? { device: scope.device } : {}) };
  if (!tokenRules.scopeFitsRole({ event: { type: 'TokenIssued', data } } as Parameters<typeof tokenRules.scopeFitsRole>[0])) throw new InvalidTokenScopeError(scope.role);
}

/** Issues a token: appends TokenIssued to its new stream and returns the token's text, which nothing keeps. */
export async function issueToken(store: EventStore, scope: TokenScope, meta: Readonly<Record<string, unknown>> = {}): Promise<{ readonly id: string; readonly token: string }> {
  checkTokenScope(scope);
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const data = { role: scope.role, ...(scope.tenant !== undefined ? { tenant: scope.tenant } : {}), ...(scope.device !== undefined ? { device: scope.device } : {}), hash: sha256(secret).toString('hex') };
  try {
    await store.appendToStream(tokenStream(id), [{ id: randomUUID(), type: 'TokenIssued', time: new Date().toISOString(), data, meta }], { expectedVersion: 'no_stream' });
  } catch (error) {
    if (error instanceof TransitionRefusedError) throw new InvalidTokenScopeError(scope.role);
    throw error;
  }
  return { id, token: `hp_${id}_${secret}` };
}

/**
 * Revokes a token for good, reading its stream once. UnknownTokenError for a token never issued, or one `may` refuses
 * (a caller that may not revoke it sees it as missing). Revoking a revoked token writes nothing and says
 * `{ revoked: false }`, also when another revocation committed between this one's read and its write (two at once:
 * one `true`, the other `false`, never a conflict).
 */
export async function revokeToken(store: EventStore, id: string, reason?: string, may: (token: TokenState['context']) => boolean = () => true): Promise<{ readonly revoked: boolean }> {
  const head = await store.readState(tokenStream(id));
  if (head.version === 0 || !may((head.state as TokenState).context)) throw new UnknownTokenError(id);
  if ((head.state as TokenState).value === 'revoked') return { revoked: false };
  try {
    await store.appendToStream(tokenStream(id), [{ id: randomUUID(), type: 'TokenRevoked', time: new Date().toISOString(), data: reason !== undefined ? { reason } : {} }], { expectedVersion: head.version });
  } catch (error) {
    // A token stream holds its issue and at most its revocation: a stream that moved on was revoked meanwhile.
    if (error instanceof WrongExpectedVersionError && ((await store.readState(tokenStream(id))).state as TokenState).value === 'revoked') return { revoked: false };
    throw error;
  }
  return { revoked: true };
}

/** Whether the log holds any token (the first start of a service on a store without one issues an operator token). */
export async function anyToken(store: EventStore & { streamHeads?(): Promise<Array<[string, string]>> }): Promise<boolean> {
  if (store.streamHeads) return (await store.streamHeads()).some(([stream]) => stream.startsWith(tokenStream('')));
  for await (const event of readLog(store)) if (event.stream.startsWith(tokenStream(''))) return true;
  return false;
}

const unauthorized = (detail: string) => new HttpProblem(401, 'UNAUTHORIZED', detail);

/** The caller an `Authorization: Bearer hp_…` header names; 401 naming what is wrong with it otherwise. */
export function authenticate(store: EventStore, header: string | undefined): Promise<Caller> {
  if (header === undefined || header === '') return Promise.reject(unauthorized('no Authorization header: send "Authorization: Bearer hp_…" with a token from "hotpatch token create"'));
  const [scheme, text, ...rest] = header.trim().split(/\s+/);
  if (scheme?.toLowerCase() !== 'bearer' || text === undefined || rest.length > 0) return Promise.reject(unauthorized('the Authorization header is not "Bearer <token>"'));
  const match = TOKEN.exec(text);
  if (match === null) return Promise.reject(unauthorized('the bearer token is not a hotpatch token (hp_<id>_<secret>)'));
  const [, id, secret] = match as unknown as [string, string, string];
  // No async frame of its own: every request comes here, and its token's read is the store's promise carried on.
  let read: Promise<StreamStateRead>;
  try {
    read = store.readState(tokenStream(id));
  } catch (error) {
    return Promise.reject(error);
  }
  return read.then((head) => {
    const state = head.state as TokenState;
    const stored = state.context.hash;
    // The same work whether or not the token exists: a comparison against a hash of nothing.
    const known = stored !== null ? Buffer.from(stored, 'hex') : sha256('');
    const same = timingSafeEqual(known, sha256(secret)) && stored !== null;
    if (!same) throw unauthorized(`unknown token ${id}`);
    if (state.value === 'revoked') throw unauthorized(`token ${id} was revoked`);
    return { tokenId: id, role: state.context.role!, tenant: state.context.tenant, device: state.context.device };
  });
}
