/**
 * A live tail of the log as server-sent events: each event once, `id:` its position, from the position after
 * which the client asked (Last-Event-ID when it reconnects); a comment when nothing came for a heartbeat (proxies
 * keep the connection). Back-pressure: the tail writes a page (at most 500 events), and waits for the client to
 * take it before reading the next; a client that has not taken it within `drainTimeoutMs` is dropped (it resumes
 * from its Last-Event-ID): at most a page is buffered for a client, never the log. The caller's token is checked
 * again before each page: a token revoked while it follows gets nothing more, and its tail ends.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';
import { MAX_AFTER } from './schemas.js';
import type { Tenant } from './tenants.js';
import type { EventStore, RecordedEvent } from '@hotpatch/store';
import type { Changes } from './changes.js';

export interface TailOptions {
  /** A comment after this long without an event (default 15 s). */
  readonly heartbeatMs: number;
  /** How long a client may take to read a page (default 10 s). */
  readonly drainTimeoutMs: number;
  /** Told when a slow client is dropped. */
  readonly onDrop?: () => void;
}

export const DEFAULT_TAIL: TailOptions = { heartbeatMs: 15_000, drainTimeoutMs: 10_000 };

const PAGE = 500;

/** Resolves true once the response drained, false after `ms` or when it closed. */
function drained(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

export async function liveTail(
  request: FastifyRequest,
  res: ServerResponse,
  options: TailOptions & {
    readonly store: EventStore;
    readonly changes: Changes;
    readonly after: number;
    readonly visible: (e: RecordedEvent) => boolean;
    /** Whether the caller's token still holds (a revocation ends the tail before the next page it would be sent). */
    readonly stillAuthorized: () => Promise<boolean>;
    /** What an event's `data:` says (default: the event, whole). */
    readonly format?: (e: RecordedEvent) => unknown;
  },
): Promise<void> {
  const { store, changes, visible } = options;
  const format = options.format ?? ((e: RecordedEvent) => e);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(`: hotpatch log after position ${options.after}\n\n`);
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  // A client gone before this listener: no close to come, and the tail would wait for the log for nobody.
  if (res.destroyed || res.socket?.destroyed !== false) gone.abort();
  let position = options.after;
  try {
    while (!gone.signal.aborted && !changes.closing) {
      const waiter = changes.waiter(null, gone.signal);
      const page = await store.readAll({ fromPosition: position + 1, limit: PAGE }).catch((error: unknown) => {
        waiter.cancel(); // the tail ends below: its waiter would keep the log follower reading for nobody
        throw error;
      });
      if (page.length > 0) {
        waiter.cancel();
        if (!(await options.stillAuthorized())) break;
        let text = '';
        for (const e of page) if (visible(e)) text += `id: ${e.position}\ndata: ${JSON.stringify(format(e))}\n\n`;
        position = page.at(-1)!.position;
        const flowing = text === '' || res.write(text);
        if (!flowing && !(await drained(res, options.drainTimeoutMs))) {
          if (!gone.signal.aborted) {
            request.log.warn({ position, buffered: res.writableLength }, 'live tail dropped: the client does not read fast enough');
            options.onDrop?.();
          }
          res.destroy();
          return;
        }
        continue;
      }
      const woken = await waiter.until(options.heartbeatMs);
      if (!woken && !gone.signal.aborted && !changes.closing) res.write(': heartbeat\n\n');
    }
  } catch (error) {
    request.log.error({ err: error }, 'live tail failed');
    res.destroy();
    return;
  }
  res.end();
}

/**
 * Refuses a reader's position past the log's end (a Last-Event-ID kept from a log since restored from an older backup,
 * or one made up): 409 POSITION_PAST_END naming the end, rather than a wait in silence until the log passes it.
 * Decided against `log`, the whole store (not a tenant's view: a tenant's positions are the log's, and a position past
 * its own last event but not past the log's end is its to ask after), as it holds it now — not this instance's
 * projection, which may not have seen what another instance wrote: the store's end is the truth for every instance.
 * One read of one event while the position is not past the end; a few more to name the end when it is.
 */
export async function refusePastEnd(log: EventStore, after: number, what = `after position ${after}`): Promise<void> {
  if (after === 0 || (await log.readAll({ fromPosition: after, limit: 1 })).length > 0) return;
  // No event at or after `after`: the end is below it. Found by halving (at most 53 reads, on a refusal only).
  let low = 0;
  let high = after - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((await log.readAll({ fromPosition: middle, limit: 1 })).length > 0) low = middle;
    else high = middle - 1;
  }
  throw new HttpProblem(409, 'POSITION_PAST_END', `${what}: past the log’s end (${low}): the log holds no such position (restored from an older backup, or a position made up); read after ${low} or before`, { after, end: low });
}

/**
 * Where a tail starts: after the client's Last-Event-ID (a reconnection), else after `after` of its query, else at
 * the end of the log now (the tenant's projection caught up with it, or past it what this instance wrote since). A
 * position the client names past the log's end (`log`: the whole store) is refused (refusePastEnd).
 */
export async function tailStart(request: FastifyRequest, at: { readonly tenant: Tenant; readonly changes: Changes; readonly log: EventStore }, after: number | undefined): Promise<number> {
  const header = request.headers['last-event-id'];
  const resume = typeof header === 'string' && header !== '' ? (/^\d{1,16}$/.test(header) ? Number(header) : NaN) : undefined;
  if (resume !== undefined && !(resume <= MAX_AFTER)) {
    throw new HttpProblem(400, 'INVALID_LAST_EVENT_ID', `Last-Event-ID: expected a log position (a whole number from 0 to ${MAX_AFTER}, in decimal), got ${JSON.stringify(header)}`, { lastEventId: header });
  }
  if (resume !== undefined) {
    await refusePastEnd(at.log, resume, `Last-Event-ID ${resume}`);
    return resume;
  }
  if (after !== undefined) {
    await refusePastEnd(at.log, after);
    return after;
  }
  await at.tenant.orchestrator.sync();
  return Math.max(at.tenant.orchestrator.projection.position, at.changes.lastPosition);
}
