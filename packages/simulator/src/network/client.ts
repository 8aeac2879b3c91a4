/**
 * The little HTTP a simulated agent needs of `hotpatch serve`: JSON in and out with a bearer token, and retries of
 * what a real agent retries (the connection refused or reset, 502/503/504: a service restarting or its database
 * away), with the same body, so an idempotent call (a report, by its id) records once.
 */
import { EnvironmentError, HotpatchError } from '@hotpatch/core';

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The service answered with an error a retry would not change (4xx), or never answered within the retries. */
export class ServiceCallError extends HotpatchError {
  readonly code = 'SERVICE_CALL_FAILED';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    readonly detail: string,
  ) {
    super(`${method} ${path}: ${status !== undefined ? `${status} ` : ''}${detail}`);
  }
}

/** The service did not answer within the retries (refused, reset, 502–504 each time): the environment, not the input. */
export class ServiceUnreachableError extends EnvironmentError {
  readonly code = 'SERVICE_UNREACHABLE';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${method} ${path}: ${detail}`);
  }
}

export interface ClientOptions {
  readonly server: string;
  /** How many times a call is tried (default 8), waiting 100 ms, then twice as long each time (up to 5 s). */
  readonly attempts?: number;
  readonly signal?: AbortSignal;
}

const RETRIED = new Set([502, 503, 504]);
/** Waits `ms`, or less when the signal aborts (its listener removed either way: one signal serves every device). */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export interface Client {
  call(method: string, path: string, token: string, body?: unknown): Promise<Answer>;
}

export function serviceClient(options: ClientOptions): Client {
  const base = options.server.replace(/\/+$/, '');
  const attempts = options.attempts ?? 8;
  return {
    async call(method, path, token, body) {
      let wait = 100;
      let last = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (options.signal?.aborted) throw new ServiceCallError(method, path, undefined, 'stopped');
        // fetch lets go of its listener on the signal it is given only once the request is garbage-collected: each
        // call has a signal of its own, aborted by a listener on the shared one that the call removes when done.
        const call = new AbortController();
        const abort = () => call.abort();
        options.signal?.addEventListener('abort', abort, { once: true });
        try {
          const response = await fetch(base + path, {
            method,
            headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            signal: call.signal,
          });
          const text = await response.text();
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
          } catch {
            // An answer that says it is JSON and is not: no retry makes it one.
            throw new ServiceCallError(method, path, response.status, `the answer is not the JSON it says it is: ${text.slice(0, 80)}`);
          }
          if (!RETRIED.has(response.status)) return { status: response.status, body: parsed };
          last = `${response.status} ${(parsed as { detail?: string } | null)?.detail ?? ''}`.trim();
        } catch (error) {
          if (error instanceof ServiceCallError) throw error;
          if (options.signal?.aborted) throw new ServiceCallError(method, path, undefined, 'stopped');
          last = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
        } finally {
          options.signal?.removeEventListener('abort', abort);
        }
        await sleep(wait, options.signal);
        wait = Math.min(5_000, wait * 2);
      }
      throw new ServiceUnreachableError(method, path, `no answer after ${attempts} attempts (last: ${last})`);
    },
  };
}

/** The answer's body when its status is one of `ok`; ServiceCallError naming the problem otherwise. */
export function expectStatus(answer: Answer, method: string, path: string, ...ok: number[]): unknown {
  if (ok.includes(answer.status)) return answer.body;
  const problem = answer.body as { detail?: string; code?: string } | null;
  throw new ServiceCallError(method, path, answer.status, problem?.detail ?? JSON.stringify(answer.body));
}
