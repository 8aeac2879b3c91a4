/**
 * Loaded into the bench's `hotpatch serve` child with `--import`: figures that do not depend on how busy the machine
 * is. On SIGUSR2 it writes one line to standard error, `probe {…}`: the process's CPU time so far (user and system,
 * microseconds), the event loop's busy time (ms; CPU time plus the waits that block it, as a COMMIT's fsync) and counts since it started — SQL statements run, transactions committed (SQLite's `COMMIT`s,
 * PostgreSQL's), the stores' state-cache lookups that found the stream's state folded at its head and those that did
 * not. The bench takes the difference across a phase and divides by the reports sent. In a process started with
 * `--expose-gc` (the soak's server), also `heapAfterGc`: the serving thread's heap used after a full collection.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';

// The build served (the bench's --bin= may name another worktree's): its modules are the ones counted.
const served = /^(.*)[\\/]packages[\\/]cli[\\/]dist[\\/]bin\.js$/.exec(process.argv[1] ?? '');
const root = served !== null ? served[1] : join(dirname(fileURLToPath(import.meta.url)), '../../..');
const counts = { statements: 0, commits: 0, stateHits: 0, stateMisses: 0 };
/** With HOTPATCH_PROBE_SQL=1: statements counted by their SQL text too, SQLite's and PostgreSQL's (written to standard error at exit). */
const bySql = process.env.HOTPATCH_PROBE_SQL === '1' ? new Map() : undefined;
const countSql = (sql) => bySql?.set(sql, (bySql.get(sql) ?? 0) + 1);
/** With HOTPATCH_PROBE_SQL=1, also the wall time each SQLite statement's call took, by SQL text (ns; a COMMIT's fsync included). */
const nsBySql = bySql !== undefined ? new Map() : undefined;

function countCalls(proto, names, onCall, timedSql) {
  for (const name of names) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] =
      nsBySql !== undefined && timedSql !== undefined
        ? function (...args) {
            onCall(this, name, args);
            const started = process.hrtime.bigint();
            try {
              return original.apply(this, args);
            } finally {
              const sql = timedSql(this, args);
              nsBySql.set(sql, (nsBySql.get(sql) ?? 0n) + process.hrtime.bigint() - started);
            }
          }
        : function (...args) {
            onCall(this, name, args);
            return original.apply(this, args);
          };
  }
}

const fromPackage = (pkg) => createRequire(join(root, 'packages', pkg, 'package.json'));

try {
  const Database = fromPackage('store-sqlite')('better-sqlite3');
  const probe = new Database(':memory:');
  countCalls(Object.getPrototypeOf(probe.prepare('SELECT 1')), ['run', 'get', 'all', 'iterate'], (statement) => (counts.statements++, countSql(statement.source)), (statement) => statement.source);
  countCalls(Database.prototype, ['exec'], (_, __, [sql]) => {
    counts.statements++;
    countSql(sql);
    if (/^\s*COMMIT\b/i.test(sql)) counts.commits++;
  }, (_, [sql]) => sql);
  probe.close();
} catch {
  // No SQLite here: nothing to count.
}
try {
  const pg = fromPackage('store-postgres')('pg');
  countCalls(pg.Client.prototype, ['query'], (_, __, [query]) => {
    counts.statements++;
    const text = typeof query === 'string' ? query : query?.text;
    if (typeof text === 'string') countSql(text);
    if (typeof text === 'string' && /^\s*COMMIT\b/i.test(text)) counts.commits++;
  });
} catch {
  // No PostgreSQL driver: nothing to count.
}
try {
  const { StateCache } = await import(join(root, 'packages/store/dist/index.js'));
  const at = StateCache.prototype.at;
  StateCache.prototype.at = function (...args) {
    const found = at.apply(this, args);
    if (found === undefined) counts.stateMisses++;
    else counts.stateHits++;
    return found;
  };
} catch {
  // An older build without the cache: nothing to count.
}

/** With HOTPATCH_PROBE_PROMISES=1: promises created, counted (an async hook: it slows the server; counts only). */
if (process.env.HOTPATCH_PROBE_PROMISES === '1') {
  counts.promises = 0;
  const { createHook } = await import('node:async_hooks');
  createHook({ init: (_, type) => void (type === 'PROMISE' && counts.promises++) }).enable();
}
if (bySql !== undefined) {
  process.on('exit', () => {
    for (const [sql, n] of [...bySql].sort((a, b) => b[1] - a[1])) {
      const ns = nsBySql.get(sql);
      const took = ns === undefined ? '' : ` (${(Number(ns) / 1000 / n).toFixed(1)} µs each)`;
      process.stderr.write(`sql ${n}${took} ${sql.replace(/\s+/g, ' ').slice(0, 160)}\n`);
    }
  });
}
/**
 * With HOTPATCH_PROBE_PROFILE=DIR: a CPU profile of each phase, from one probe to the next (DIR/phase-N.cpuprofile),
 * without the start-up a whole-process --cpu-prof holds.
 */
const profileDir = process.env.HOTPATCH_PROBE_PROFILE;
let profiler;
let phase = 0;
const profilePhase = async () => {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  if (profiler === undefined) {
    profiler = new Session();
    profiler.connect();
    await new Promise((ok) => profiler.post('Profiler.enable', ok));
  } else {
    const { profile } = await new Promise((ok, fail) => profiler.post('Profiler.stop', (error, result) => (error ? fail(error) : ok(result))));
    writeFileSync(join(profileDir, `phase-${++phase}.cpuprofile`), JSON.stringify(profile));
  }
  await new Promise((ok) => profiler.post('Profiler.start', ok));
};
let snapshots = 0;
process.on('SIGUSR2', () => {
  if (profileDir !== undefined) void profilePhase();
  const { user, system } = process.cpuUsage();
  // The event loop's busy time (ms): CPU time plus what the thread waited for without yielding (an fsync in COMMIT).
  const { active } = performance.eventLoopUtilization();
  // Started with --expose-gc (the soak): the heap a full collection leaves, what the process holds rather than where
  // the collector's saw-tooth happens to be.
  let heapAfterGc;
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    heapAfterGc = process.memoryUsage().heapUsed;
    // With HOTPATCH_PROBE_HEAPSNAPSHOT=DIR: a heap snapshot at each probe (DIR/heap-N.heapsnapshot), to tell what grew.
    if (process.env.HOTPATCH_PROBE_HEAPSNAPSHOT) writeHeapSnapshot(join(process.env.HOTPATCH_PROBE_HEAPSNAPSHOT, `heap-${++snapshots}.heapsnapshot`));
  }
  process.stderr.write(`probe ${JSON.stringify({ user, system, active, rss: process.memoryUsage().rss, heapAfterGc, ...counts })}\n`);
});
