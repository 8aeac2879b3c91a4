/**
 * Refusals by the service's own bounds, counted at /metrics (`hotpatch_http_refusals_total{reason}`): a token
 * missing or refused (401), a method a path does not answer (405), a body over 1 MiB (413), a body not JSON (415), a
 * body nested too deep (400), a token past its open long-polls or live tails (429), headers over Node's 16 KiB (431),
 * a request not whole in time (408). The reason is one of a fixed set, read from the error the service made: never
 * a value the client sent (a method, a path, a token), so the counter's series stay few whatever clients send. Other
 * 4xx (a body of the wrong shape, an unknown device, a conflict) are answers about the request, not bounds.
 */
import type { FastifyError } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { HttpProblem } from './problem.js';
import { BodyTooDeepError } from './validation.js';

export const REFUSAL_REASONS = ['unauthorized', 'method-not-allowed', 'body-too-large', 'unsupported-media-type', 'body-too-deep', 'too-many-open', 'headers-too-large', 'request-timeout'] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The problem codes of the service's own refusals (its HttpProblems, Node's parser's), by reason. */
const BY_CODE: Readonly<Record<string, RefusalReason>> = {
  UNAUTHORIZED: 'unauthorized',
  METHOD_NOT_ALLOWED: 'method-not-allowed',
  TOO_MANY_OPEN: 'too-many-open',
  HEADERS_TOO_LARGE: 'headers-too-large',
  REQUEST_TIMEOUT: 'request-timeout',
  // Fastify's body parser's.
  FST_ERR_CTP_BODY_TOO_LARGE: 'body-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
};

/** Why `error` (or the code of a problem written on the socket) is a refusal by a bound; undefined when it is not one. */
export function refusalOf(error: unknown): RefusalReason | undefined {
  if (error instanceof BodyTooDeepError) return 'body-too-deep';
  const code = typeof error === 'string' ? error : error instanceof HttpProblem ? error.code : (error as Partial<FastifyError> | null)?.code;
  return typeof code === 'string' && Object.hasOwn(BY_CODE, code) ? BY_CODE[code] : undefined;
}

/** Counts `error` under its reason when it is a refusal by a bound. */
export function countRefusal(counter: Counter<'reason'>, error: unknown): void {
  const reason = refusalOf(error);
  if (reason !== undefined) counter.inc({ reason });
}

/** The counter, every reason at 0 from the start (a rate over a series that appears late misses its first refusals). */
export function refusalCounter(registry: Registry): Counter<'reason'> {
  const counter = new Counter({ name: 'hotpatch_http_refusals_total', help: 'Requests refused by the service’s own bounds, by reason (unauthorized, method-not-allowed, body-too-large, unsupported-media-type, body-too-deep, too-many-open, headers-too-large, request-timeout)', labelNames: ['reason'], registers: [registry] });
  for (const reason of REFUSAL_REASONS) counter.inc({ reason }, 0);
  return counter;
}
