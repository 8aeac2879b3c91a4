/**
 * How many long requests one token may hold open at once: long-polls (`GET /v1/devices/{id}/instructions?wait=S`,
 * S > 0) and live tails (`GET /v1/events/stream`, `GET /v1/console/stream`) each hold a connection and a waiter, so a
 * token left unbounded could hold the server's sockets and memory. A route says what it holds (`config.holds`); one
 * past the token's bound is answered 429 with Retry-After and a problem naming the bound, and each counted request
 * is let go when its response closes, however it ends (answered, its client gone, the server closing).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { HttpProblem } from './problem.js';

export type Holding = 'long-poll' | 'tail';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a request of the route holds open while it waits (undefined: nothing: it is answered at once). */
    holds?: (request: FastifyRequest) => Holding | undefined;
  }
}

/** The most of each a token may hold open at once (`ServerOptions.openPerToken`). */
export interface OpenPerToken {
  /** Long-polls per token (an agent's: one device), default 4. */
  readonly longPolls: number;
  /** Live tails per token, default 8. */
  readonly tails: number;
}

export const OPEN_PER_TOKEN: OpenPerToken = { longPolls: 4, tails: 8 };

/** A long-poll waits while it has a wait to wait. */
export const longPollOf = (request: FastifyRequest): Holding | undefined => (((request.query as { wait?: number } | undefined)?.wait ?? 0) > 0 ? 'long-poll' : undefined);
export const holdsTail = (): Holding => 'tail';

const GAUGE = 'hotpatch_open_requests';

/**
 * Counts the long requests open per token on `app`'s routes (after access control: the caller is known), and all of
 * them in the gauge `hotpatch_open_requests{holding}` of `registry`.
 */
export function boundOpenRequests(app: FastifyInstance, registry: Registry, given: Partial<OpenPerToken> = {}): void {
  const bounds = { ...OPEN_PER_TOKEN, ...given };
  const open = new Map<string, number>();
  const gauge = (registry.getSingleMetric(GAUGE) as Gauge<'holding'> | undefined) ?? new Gauge({ name: GAUGE, help: 'Long-polls and live tails open now', labelNames: ['holding'], registers: [registry] });
  // A callback, not an async function: no promise per request.
  app.addHook('preHandler', (request, reply, done) => {
    const holding = request.routeOptions.config.holds?.(request);
    const caller = request.caller;
    if (holding === undefined || caller === null) return done();
    // Its client gone already (while its token was read, say): its close has come and gone, so neither this count nor
    // the route's own wait would ever be let go. Ended here: the route does not run.
    if (request.raw.socket?.destroyed !== false) {
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    const [bound, option] = holding === 'long-poll' ? [bounds.longPolls, 'longPolls'] : [bounds.tails, 'tails'];
    const key = `${holding}\n${caller.tokenId}`;
    const held = open.get(key) ?? 0;
    if (held >= bound) {
      return done(
        new HttpProblem(429, 'TOO_MANY_OPEN', `token ${caller.tokenId} holds ${held} ${holding}s open, the most one token may (${bound}, openPerToken.${option}): end one, or try again later`, {
          holding,
          bound,
          tokenId: caller.tokenId,
        }),
      );
    }
    open.set(key, held + 1);
    gauge.inc({ holding });
    reply.raw.once('close', () => {
      gauge.dec({ holding });
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
    done();
  });
}
