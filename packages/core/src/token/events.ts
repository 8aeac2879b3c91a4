/**
 * A service token's events (stream `token/<tokenId>`): issued with its role and scope, then perhaps revoked. The
 * log keeps only the SHA-256 of the token's secret (hex), never the secret: the token is shown once, when issued.
 * Service-level: a token's stream is not a tenant's, whatever tenant it is bound to.
 */
import { Type } from '../typebox.js';
import type { EventBodyOf, EventOf } from '../envelope.js';
import { oneOf, Text, type Shape } from '../schema.js';
import { StreamIdSchema } from '../stream-id.js';
import { TenantNameSchema } from '../tenant.js';

/**
 * Who a token speaks for: an agent (one device of one tenant), an operator (the service: every tenant), a tenant's
 * admin (one tenant), an auditor (read-only: the whole service, or one tenant).
 */
export const TOKEN_ROLES = ['agent', 'operator', 'tenant-admin', 'auditor'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];
export const TokenRoleSchema = oneOf(...TOKEN_ROLES);

/** The SHA-256 of a token's secret, 64 lower-case hexadecimal digits. */
export const TokenHashSchema = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the token’s secret, in lower-case hex.' });

/** The data of each token event type: the one definition of its fields. */
export const TOKEN_EVENT_DATA = {
  TokenIssued: Type.Object({
    role: TokenRoleSchema,
    /** The tenant it is bound to: required of an agent and a tenant admin, optional for an auditor, none for an operator. */
    tenant: Type.Optional(TenantNameSchema),
    /** The device an agent's token is bound to (agents only). */
    device: Type.Optional(StreamIdSchema),
    hash: TokenHashSchema,
  }),
  TokenRevoked: Type.Object({ reason: Type.Optional(Text) }),
};

export type TokenEventData = { readonly [T in keyof typeof TOKEN_EVENT_DATA]: Shape<(typeof TOKEN_EVENT_DATA)[T]> };

export type TokenEventType = keyof TokenEventData;

export const TOKEN_EVENT_TYPES = ['TokenIssued', 'TokenRevoked'] as const satisfies readonly TokenEventType[];

export type TokenEventBody = EventBodyOf<TokenEventData>;

export type TokenEvent = EventOf<TokenEventData>;

/** What an issued token is: its role, scope and secret's hash (null fields where it has no such scope). */
export interface TokenContext {
  readonly role: TokenRole | null;
  readonly tenant: string | null;
  readonly device: string | null;
  readonly hash: string | null;
}

export const TOKEN_STATES = ['none', 'issued', 'revoked'] as const;
export type TokenStateValue = (typeof TOKEN_STATES)[number];

export interface TokenState {
  readonly value: TokenStateValue;
  readonly context: TokenContext;
}

export const initialTokenContext: TokenContext = { role: null, tenant: null, device: null, hash: null };
