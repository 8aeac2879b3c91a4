/**
 * Every error as an RFC 9457 problem (`application/problem+json`): type, title, status, detail, instance, and the
 * fields that say what to do about it (stream, expectedVersion, path…). One error handler maps the library's typed
 * errors (their `code`) to statuses, so a route never builds an error response itself.
 */
import { EnvironmentError, HotpatchError, Type } from '@hotpatch/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export const PROBLEM_TYPE = 'urn:hotpatch:problem:';

/** The shape of every error response (documented in the OpenAPI document as the 4xx and 5xx answers). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'urn:hotpatch:problem:<code in kebab case>; docs/service.md lists them.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String({ description: 'The request’s path.' }),
    code: Type.String({ description: 'The library’s error code (INVALID_REPORT, RELEASE_CONFLICT…).' }),
  },
  { additionalProperties: true, description: 'An RFC 9457 problem; further fields name what is wrong (stream, expectedVersion, path, device…).' },
);

/** An HTTP answer the service gives on purpose: not found, forbidden, unauthorised, conflict. */
export class HttpProblem extends HotpatchError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  UNKNOWN_RING: 404,
  UNKNOWN_ROLLOUT: 404,
  UNKNOWN_TOKEN: 404,
  RELEASE_CONFLICT: 409,
  EVENT_ID_REUSED: 409,
  EVENT_ID_TAKEN: 409,
  IDEMPOTENCY_CONFLICT: 409,
  COMMAND_ID_REUSED: 409,
  TRANSITION_REFUSED: 409,
  COMMAND_REFUSED: 409,
  WRONG_EXPECTED_VERSION: 409,
  CONCURRENCY_EXHAUSTED: 503,
  STORE_CLOSED: 503,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A library error's status: its code's, 503 when the environment failed (the database away), 400 for other bad input. */
export function statusOf(error: unknown): number {
  if (error instanceof HttpProblem) return error.status;
  if (error instanceof HotpatchError) return STATUS_OF_CODE[error.code] ?? (error instanceof EnvironmentError ? 503 : 400);
  const fastify = error as Partial<FastifyError>;
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 600) return fastify.statusCode;
  return 500;
}

const kebab = (code: string) => code.replace(/^FST_ERR_/, '').toLowerCase().replace(/_/g, '-');
/** The plain data fields of a typed error (stream, expectedVersion, path…), those JSON can carry. */
export function fieldsOf(error: HotpatchError): Record<string, unknown> {
  if (error instanceof HttpProblem) return { ...error.fields };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'code' || key === 'status' || key === 'statusCode' || key === 'validationContext' || value === undefined || typeof value === 'function') continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value) || (typeof value === 'object' && JSON.stringify(value).length < 2000)) out[key] = value;
  }
  return out;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly code: string;
  readonly [field: string]: unknown;
}

/** The problem an error makes, for the request it answers. An unexpected error says nothing of its insides. */
export function problemOf(error: unknown, instance: string): Problem {
  const status = statusOf(error);
  if (error instanceof HotpatchError) {
    return { ...fieldsOf(error), type: PROBLEM_TYPE + kebab(error.code), title: TITLES[status] ?? 'Error', status, detail: error.message, instance, code: error.code };
  }
  const fastify = error as Partial<FastifyError>;
  if (status < 500 && typeof fastify.code === 'string') {
    return { type: PROBLEM_TYPE + kebab(fastify.code), title: TITLES[status] ?? 'Error', status, detail: fastify.message ?? 'bad request', instance, code: fastify.code };
  }
  return { type: PROBLEM_TYPE + 'internal', title: TITLES[500]!, status: 500, detail: 'an internal error of the service (logged with the request id)', instance, code: 'INTERNAL' };
}

/** Seconds a client is told to wait before it tries again a call the store could not serve, or one past a bound (Retry-After). */
export const RETRY_AFTER_SECONDS = 2;

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 503 || problem.status === 429) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/**
 * A store that cannot serve now (the database away, busy, closing): the problem names the store (`store`, and in the
 * detail) so that whoever reads it knows which database to look at, and the client is to retry (503, Retry-After).
 */
export function storeUnavailable(problem: Problem, store: string): Problem {
  return { ...problem, status: 503, title: TITLES[503]!, store, detail: `the store ${store} cannot serve now: ${problem.detail}; try again (Retry-After)` };
}

/** The plugin's error handler, over the service's store: named in the answers its failures make, its outages logged once. */
export function errorHandlerFor(store: { readonly storeName: string; storeFailed(error: unknown, during: string): boolean }) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    let problem = problemOf(error, request.url.split('?')[0]!);
    if (problem.status === 503 && store.storeFailed(error, `${request.method} ${request.routeOptions.url ?? request.url}`)) {
      // Not a fault of the service, and said once for the whole outage: one line per request, no stack.
      problem = storeUnavailable(problem, store.storeName);
      request.log.warn({ problem: problem.code }, problem.detail);
    } else if (problem.status === 503 && error instanceof EnvironmentError) {
      // The service's own part away for a while (the report thread restarting): one line, no stack; its cause is logged once where it happened.
      request.log.warn({ problem: problem.code }, problem.detail);
    } else if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ problem: problem.code }, problem.detail);
    return sendProblem(reply, problem);
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, problemOf(new HttpProblem(404, 'UNKNOWN_ROUTE', `no route ${request.method} ${request.url.split('?')[0]}`, { method: request.method }), request.url.split('?')[0]!));
}

/**
 * What a log line says of an error: the store's environment failing (the database away, busy, closed) in one line,
 * without a stack — an outage, not a fault of the service; anything else whole, with its stack.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  return error instanceof EnvironmentError ? { problem: error.code, detail: error.message } : { err: error };
}

/** A URL the router cannot decode (a `%` not followed by two hex digits): 400, as a request not of its route's shape. */
export function frameworkProblem(error: { message: string; code?: string }, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.raw.url?.split('?')[0] ?? '';
  request.log.info({ problem: error.code }, error.message);
  return sendProblem(reply, { type: PROBLEM_TYPE + 'invalid-request', title: TITLES[400]!, status: 400, detail: `path ${JSON.stringify(path)}: not a URL path the service can read (${error.message})`, instance: path, code: 'INVALID_REQUEST', part: 'path' });
}

/**
 * What Node's HTTP parser refuses (headers over its 16 KiB, a request line it cannot read, a request too slow to
 * come): a problem written on the socket, as the routes' are, then the connection closed. Returns the problem's code
 * (undefined when none was written: the client gone, or an answer already under way).
 */
export function clientProblem(
  error: Error & { code?: string },
  socket: { destroyed: boolean; writable: boolean; write(text: string): unknown; destroy(error?: Error): void; _httpMessage?: { headersSent?: boolean } | null },
): string | undefined {
  if (error.code === 'ECONNRESET' || socket.destroyed) return undefined;
  // An answer already under way on this connection (a live tail, a request pipelined behind another): a status line
  // written now would land inside it. Closed without one, as Node's own handler does.
  if (socket._httpMessage?.headersSent === true) {
    socket.destroy(error);
    return undefined;
  }
  const [status, code, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'the request’s headers are over 16 KiB (a token is 63 characters)']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'the request did not come whole in time']
        : [400, 'INVALID_HTTP', `not an HTTP/1.1 request the service can read (${error.code ?? error.message})`];
  const title = { 431: 'Request Header Fields Too Large', 408: 'Request Timeout', 400: 'Bad Request' }[status]!;
  const body = JSON.stringify({ type: PROBLEM_TYPE + kebab(code), title, status, detail, instance: '', code });
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  socket.destroy(error);
  return code;
}
