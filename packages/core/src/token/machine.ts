/**
 * The token lifecycle (stream `token/<tokenId>`), an xstate v5 machine like the ring lifecycle: a token is issued
 * once, with a scope that fits its role, and revoked at most once; a revoked token stays revoked. A stream with no
 * events is a token never issued.
 */
import { assign, setup } from 'xstate';
import { initialTokenContext, type TokenContext, type TokenEventBody } from './events.js';

type Of<T extends TokenEventBody['type']> = Extract<TokenEventBody, { type: T }>;
export interface TokenGuardArgs<E extends TokenEventBody = TokenEventBody> {
  readonly context: TokenContext;
  readonly event: E;
}
type Guard<E extends TokenEventBody> = (args: TokenGuardArgs<E>) => boolean;
type Update<E extends TokenEventBody> = (args: TokenGuardArgs<E>) => Partial<TokenContext>;

/**
 * The scope fits the role: an agent is bound to a tenant and a device; a tenant admin to a tenant and no device; an
 * operator to neither (it acts for the service); an auditor to no device, and to a tenant or to none (service-wide).
 */
export const scopeFitsRole: Guard<Of<'TokenIssued'>> = ({ event }) => {
  const { role, tenant, device } = event.data;
  switch (role) {
    case 'agent':
      return tenant !== undefined && device !== undefined;
    case 'tenant-admin':
      return tenant !== undefined && device === undefined;
    case 'operator':
      return tenant === undefined && device === undefined;
    case 'auditor':
      return device === undefined;
  }
};

export const issue: Update<Of<'TokenIssued'>> = ({ event }) => ({
  role: event.data.role,
  tenant: event.data.tenant ?? null,
  device: event.data.device ?? null,
  hash: event.data.hash,
});

type AnyGuard = (args: TokenGuardArgs) => boolean;
const g = (fn: unknown): AnyGuard => fn as AnyGuard;
const a = (fn: unknown) => assign<TokenContext, TokenEventBody, undefined, TokenEventBody, never>(fn as (args: TokenGuardArgs) => Partial<TokenContext>);

export const tokenSetup = setup({
  types: { context: {} as TokenContext, events: {} as TokenEventBody },
  guards: { scopeFitsRole: g(scopeFitsRole) },
  actions: { issue: a(issue) },
});

export const tokenMachine = tokenSetup.createMachine({
  id: 'token',
  initial: 'none',
  context: initialTokenContext,
  states: {
    none: {
      on: { TokenIssued: { guard: 'scopeFitsRole', target: 'issued', actions: 'issue' } },
    },
    issued: {
      on: { TokenRevoked: { target: 'revoked' } },
    },
    revoked: {},
  },
});
