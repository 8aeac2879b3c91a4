/**
 * A large timeline file folded on several cores, a share of the streams per shard; any irregular line or problem
 * sends the caller back to the one-thread fold, so the answer is always that fold's (design: the package README).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileDigest, parseEventLine, readLineSpans } from '@hotpatch/store';
import { streamPrefix, TENANT_STREAM_PREFIX, type HotpatchEvent } from '@hotpatch/core';
import type { StreamState } from './device-view.js';
import { TenantCrossStreamCheck } from './cross-stream.js';
import { TimelineFold, type FileFoldResult, type ReplayPoint } from './fold.js';
import { IdIndex } from './id-index.js';

export interface ShardJob {
  readonly path: string;
  readonly shard: number;
  readonly shards: number;
  /** The end, or a time (a position is a cut across streams: the one-thread fold handles it). */
  readonly until?: ReplayPoint;
  /** Check each device's patch steps against its rollout's records (verify): a gap sends the caller to one thread. */
  readonly crossStream?: boolean;
  /** Take a digest of the bytes read (see FileFoldOptions.digest). */
  readonly digest?: boolean;
}

export type ShardReply =
  | {
      readonly ok: true;
      /** Each stream of the shard with its state and the line it first appeared on (to restore file order). */
      readonly streams: Array<[stream: string, state: StreamState, firstLine: number]>;
      readonly folded: number;
      readonly lines: number;
      /** Whether events of the shard carry hashes, and whether some do not (a log has them on all, or none). */
      readonly hashed: boolean;
      readonly unhashed: boolean;
      /** With ShardJob.digest: the digest (fileDigest, hex) of the bytes the shard read. */
      readonly digest?: string;
    }
  | { readonly ok: false; readonly reason: string };

/** Which of `shards` a stream belongs to (a 32-bit polynomial hash of its name, as foldShard computes it). */
export function shardOf(name: string, shards: number): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0;
  return (h >>> 0) % shards;
}

const ID_START = '{"id":"';
const STREAM_KEY = '","stream":"';
/** Where the stream name starts in a canonical line: after `{"id":"`, 36 characters and `","stream":"`. */
const STREAM_AT = ID_START.length + 36 + STREAM_KEY.length;
const POSITION_KEY = ',"position":';
const ROLLOUT_PREFIX = streamPrefix('rollout');
const SEAL_PREFIX = streamPrefix('seal');

/** The events of a rollout the check across streams reads (not the outcomes, most of a rollout's lines). */
const CHECKED_ROLLOUT_TYPES = ['RolloutPlanned', 'RingStarted', 'GatePassed', 'RolloutHalted'].map((t) => `"type":"${t}"`);
const TYPE_KEY = '"type":"';

const INSTRUCTED = '"type":"DeviceInstructed"';
const DEVICE_KEY = '"device":"';
/** The shard hash of `device/` (see shardOf), from which a device's stream name is hashed on. */
const DEVICE_PREFIX = streamPrefix('device');
const DEVICE_STREAM_HASH = [...DEVICE_PREFIX].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 0);

const TENANT_PREFIX = TENANT_STREAM_PREFIX;

/**
 * For a rollout's stream name in `text[at, end)` (`rollout/…`, or a tenant's `tenant/<tenant>/rollout/…`): the shard
 * hash its tenant's device streams are hashed on from (see DEVICE_STREAM_HASH); undefined for a stream of another
 * kind; null when the text does not say plainly (an escape): the line is then parsed.
 */
function rolloutDevicesHash(text: string, at: number, end: number): number | null | undefined {
  if (matchesAt(text, at, ROLLOUT_PREFIX)) return DEVICE_STREAM_HASH;
  if (!matchesAt(text, at, TENANT_PREFIX)) return undefined;
  let h = 0;
  for (let q = at; q < end; q++) {
    const c = text.charCodeAt(q);
    if (c === 92) return null;
    h = (Math.imul(h, 31) + c) | 0;
    if (c === 47 && q >= at + TENANT_PREFIX.length) {
      if (!matchesAt(text, q + 1, ROLLOUT_PREFIX)) return undefined;
      for (const d of DEVICE_PREFIX) h = (Math.imul(h, 31) + d.charCodeAt(0)) | 0;
      return h;
    }
  }
  return undefined;
}

/**
 * Whether a rollout's line of another shard, its stream ending at `from`, is one this shard's check across streams
 * reads: the rollout's turns, and its instructions to this shard's devices (the device's shard hashed from the text;
 * parsed when the text does not say plainly).
 */
function rolloutLineWanted(text: string, from: number, end: number, shard: number, shards: number, devices: number): boolean {
  const at = text.indexOf(TYPE_KEY, from);
  if (at < 0 || at >= end) return true;
  if (matchesAt(text, at, INSTRUCTED)) {
    const d = text.indexOf(DEVICE_KEY, at);
    if (d < 0 || d >= end) return true;
    let h = devices;
    for (let q = d + DEVICE_KEY.length; q < end; q++) {
      const c = text.charCodeAt(q);
      if (c === 34) return (h >>> 0) % shards === shard;
      if (c === 92) return true;
      h = (Math.imul(h, 31) + c) | 0;
    }
    return true;
  }
  for (const type of CHECKED_ROLLOUT_TYPES) if (matchesAt(text, at, type)) return true;
  return false;
}

/** Whether `text` has `literal` at `at` (a loop the compiler keeps inline; faster than startsWith here). */
function matchesAt(text: string, at: number, literal: string): boolean {
  if (text.length < at + literal.length) return false;
  for (let i = 0; i < literal.length; i++) if (text.charCodeAt(at + i) !== literal.charCodeAt(i)) return false;
  return true;
}

/**
 * The top-level position written in the line `text[start, end)`, undefined when there is none, NaN when it cannot
 * be read from the text. Position and hash are the last keys of a canonical line, so the last `,"position":`
 * (quotes cannot appear unescaped inside a string) is the top-level one when there is one; the owner of the line
 * checks it against the parsed event, which catches a nested key of that name.
 */
function positionIn(text: string, start: number, end: number): number | undefined {
  const at = text.lastIndexOf(POSITION_KEY, end - POSITION_KEY.length);
  if (at < start) return undefined;
  let i = at + POSITION_KEY.length;
  let n = 0;
  const from = i;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  const after = i < end ? text.charCodeAt(i) : -1;
  return i === from || i - from > 15 || (after !== 44 && after !== 125) ? NaN : n;
}

/**
 * One shard's fold of a file: a reply that is not ok stops it (the caller then folds in one thread). `stopped` is
 * asked between chunks, so that a shard whose result is no longer wanted stops reading.
 */
export async function foldShard(job: ShardJob, stopped: () => boolean = () => false): Promise<ShardReply> {
  const { path, shard, shards } = job;
  const fold = new TimelineFold({ ...(job.until ? { until: job.until } : {}), collectProblems: true, checkIds: false }, path);
  // Its own devices against every rollout: each shard reads the rollouts' lines too (they are few beside the devices').
  const check = job.crossStream ? new TenantCrossStreamCheck((deviceStream) => shardOf(deviceStream, shards) === shard) : undefined;
  const noPlace = () => ({ order: 0, at: {} });
  const ids = new IdIndex(1 << 16);
  const firstLines: number[] = [];
  let lastPosition = 0;
  let lines = 0;
  let unhashed = false;
  const stop = (line: number, reason: string): ShardReply => ({ ok: false, reason: `line ${line}: ${reason}` });
  // Lines are read as spans of each chunk's one flat text: most are only glanced at, and characters come faster
  // from it than from strings sliced out of it.
  const digest = job.digest ? fileDigest() : undefined;
  for await (const { first, text, starts, ends } of readLineSpans(path, digest ? { digest } : {})) {
    // Another shard has given up: the caller folds the file in one thread, and this shard's work would be lost.
    if (stopped()) return stop(first, 'another shard stopped');
    for (let i = 0; i < starts.length; i++) {
      const line = first + i;
      const s = starts[i]!;
      const e = ends[i]!;
      lines = line;
      if (e - s < STREAM_AT || !matchesAt(text, s, ID_START) || !matchesAt(text, s + STREAM_AT - STREAM_KEY.length, STREAM_KEY)) return stop(line, 'not in the canonical layout');
      // The stream's shard, hashed from the line's text as it is read (no string cut out of it).
      let h = 0;
      let q = s + STREAM_AT;
      for (; q < e; q++) {
        const c = text.charCodeAt(q);
        if (c === 34) break;
        h = (Math.imul(h, 31) + c) | 0;
      }
      if (q === e) return stop(line, 'not in the canonical layout');
      // A seal is judged against the heads of every stream as of the position it covers: one thread does that.
      if (matchesAt(text, s + STREAM_AT, SEAL_PREFIX)) return stop(line, 'a seal (seals are checked in one thread)');
      const position = positionIn(text, s, e);
      if (position !== undefined) {
        if (!(position > lastPosition)) return stop(line, 'position out of order, or unreadable');
        lastPosition = position;
      }
      // Ids are shared out by their last character (random in a UUID), each checked by one shard only.
      // (The shard's fold is told not to check them again.)
      if (text.charCodeAt(s + ID_START.length + 35) % shards === shard && ids.firstOrAddAt(text, s + ID_START.length, line) !== undefined) return stop(line, 'repeated id');
      if ((h >>> 0) % shards !== shard) {
        const devices = check === undefined ? undefined : rolloutDevicesHash(text, s + STREAM_AT, q);
        if (check !== undefined && devices !== undefined && (devices === null || rolloutLineWanted(text, q, e, shard, shards, devices))) {
          try {
            check.add(parseEventLine(text.slice(s, e), line, path), noPlace);
          } catch {
            // Its own shard reports it.
          }
        }
        continue;
      }
      let event: HotpatchEvent;
      try {
        event = parseEventLine(text.slice(s, e), line, path);
      } catch {
        return stop(line, 'invalid event');
      }
      // What was read from the text must be what JSON.parse gives (escapes, or a later duplicate key, would make
      // them differ): the id checked character by character, the stream by the shard it belongs to (which is all
      // the sharing out needs: every event of a stream, as parsed, folded by one shard), and the position.
      if (event.id.length !== 36 || !matchesAt(text, s + ID_START.length, event.id) || shardOf(event.stream, shards) !== shard || event.position !== position) {
        return stop(line, 'the text and the parsed event disagree');
      }
      const known = fold.streams.size;
      fold.add(event, line);
      if (event.hash === undefined) unhashed = true;
      // A stream seen for the first time: its line, in the order the fold's map has its streams.
      if (fold.streams.size !== known) firstLines.push(line);
      if (fold.troubled) return stop(line, 'a problem');
      check?.add(event, noPlace);
      if (check?.any) return stop(line, 'a gap between streams');
    }
  }
  // One thread says where each gap is.
  if (check !== undefined && check.findings().length > 0) return stop(lines, 'a gap between streams');
  const { streams, folded } = fold.result();
  let k = 0;
  return { ok: true, streams: [...streams].map(([name, state]) => [name, state, firstLines[k++]!]), folded, lines, hashed: fold.hashed, unhashed, ...(digest ? { digest: digest.digest('hex') } : {}) };
}

/** The built worker entry, or undefined when there is none (the library run from its sources unbuilt). */
function shardWorker(): string | undefined {
  try {
    const path = createRequire(import.meta.url).resolve('@hotpatch/replay/fold-worker');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Whether this process can fold in shards: more than one core, and the worker built. */
export function shardsAvailable(): number {
  const cores = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  return cores > 1 && shardWorker() !== undefined ? Math.min(cores, 4) : 1;
}

/**
 * Folds a file in `shards` worker threads. Undefined when it cannot say for sure (an irregular line, a problem, a
 * worker that failed): the caller then folds the file in one thread.
 */
export async function foldInShards(path: string, until: ReplayPoint | undefined, shards: number, crossStream = false, digest = false): Promise<FileFoldResult | undefined> {
  const entry = shardWorker();
  if (entry === undefined || shards < 2) return undefined;
  const workers: Worker[] = [];
  let stopped = false;
  try {
    const replies = await new Promise<ShardReply[]>((resolve) => {
      const replies: ShardReply[] = [];
      let pending = shards;
      const settle = (shard: number, reply: ShardReply) => {
        if (replies[shard] !== undefined) return;
        replies[shard] = reply;
        // The first shard that cannot finish settles it for all (and stops this thread's shard).
        if (!reply.ok) {
          stopped = true;
          resolve([reply]);
        } else if (--pending === 0) resolve(replies);
      };
      // Shards 1… in worker threads; shard 0 in this thread, which would otherwise only wait for them (one thread
      // fewer to start, and one shard's states that need not be copied back).
      for (let shard = 1; shard < shards; shard++) {
        // The worker runs the built JavaScript as it is, without this thread's flags (a test runner's conditions).
        const worker = new Worker(entry, { workerData: { path, shard, shards, ...(until ? { until } : {}), ...(crossStream ? { crossStream } : {}), ...(digest ? { digest } : {}) } satisfies ShardJob, execArgv: [] });
        workers.push(worker);
        worker.on('message', (reply: ShardReply) => settle(shard, reply));
        worker.on('error', (error) => settle(shard, { ok: false, reason: error.message }));
        worker.on('exit', (code) => settle(shard, { ok: false, reason: `worker exited with code ${code}` }));
      }
      foldShard({ path, shard: 0, shards, ...(until ? { until } : {}), ...(crossStream ? { crossStream } : {}), ...(digest ? { digest } : {}) }, () => stopped).then(
        (reply) => settle(0, reply),
        (error: unknown) => settle(0, { ok: false, reason: error instanceof Error ? error.message : String(error) }),
      );
    });
    if (replies.some((r) => !r.ok)) return undefined;
    // Events with hashes in one shard and without in another: a problem, which one thread reports.
    const hashed = replies.some((r) => r.ok && r.hashed);
    if (hashed && replies.some((r) => r.ok && r.unhashed)) return undefined;
    // Shards that read different bytes (the file changed under them) cannot be put together.
    const digests = new Set(replies.map((r) => (r.ok ? r.digest : undefined)));
    if (digests.size !== 1) return undefined;
    const entries: Array<[string, StreamState, number]> = [];
    let folded = 0;
    let lines = 0;
    for (const reply of replies) {
      if (!reply.ok) return undefined;
      for (const e of reply.streams) entries.push(e);
      folded += reply.folded;
      lines = Math.max(lines, reply.lines);
    }
    // The streams in the order they first appear in the file, as the one-thread fold has them.
    entries.sort((a, b) => a[2] - b[2]);
    const streams = new Map<string, StreamState>();
    for (const [name, state] of entries) streams.set(name, state);
    const [read] = digests;
    return { streams, problems: [], implications: new Map(), folded, lineProblems: [], lines, hashed, ...(read !== undefined ? { digest: read } : {}) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
