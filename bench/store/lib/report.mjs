/** store.bench.mjs's report: what bounds each figure, the targets, and the printed tables. */
import { PG_WRITERS, READ_PAGE } from './config.mjs';

// ---------------------------------------------------------------------------------------------------------------
// What bounds each figure: from CPU profiles (node --cpu-prof, cut with HOTPATCH_BENCH_TRACE) and samples of
// pg_stat_activity taken during these runs; the shares are approximate and move with the machine's load.

export const BOUNDS = {
  append1: {
    memory: 'CPU only, no I/O: per call, validation, the lifecycle fold, SHA-256 over canonical JSON, a deep copy and freeze',
    sqlite:
      "one WAL fsync per commit (synchronous=FULL in both): ours runs at the commit floor below; Emmett adds 5 statements per append (BEGIN IMMEDIATE, SELECT, stream row, messages, COMMIT), each a hop through libuv's thread pool",
    postgres:
      'one WAL flush per commit (synchronous_commit=on) and round trips: ours makes 1 per append to a stream it wrote last (one write statement, committed on its own, from the head it kept; 2 otherwise, with a read of the head, the id and the snapshot), Emmett 3 (BEGIN, one plpgsql function, COMMIT)',
  },
  append100: {
    memory: 'CPU: the store keeps every event, so garbage collection grows with it (about 40% at batches of 1,000), then the deep copy and freeze, SHA-256 over canonical JSON',
    sqlite:
      'ours: JavaScript per event (SHA-256 over canonical JSON, validation, fold) and INSERTs of up to 64 rows into a table with 3 unique indexes; Emmett: 5 thread-pool hops per append and one multi-row INSERT; both one fsync per append',
    postgres:
      'ours: appends are serialised on the log_head row from the positions update to the end of the write statement\'s commit (the rows\' insert and a WAL flush, on the server); Emmett takes positions from a sequence and does not serialise',
  },
  append1000: {
    memory: 'CPU: garbage collection (about 40%: the store keeps every event), the deep copy and freeze (about 25%), SHA-256 over canonical JSON (about 20%)',
    sqlite:
      'ours (profiled): the INSERTs into 3 unique indexes (about 30%), COMMIT: WAL write, fsync and checkpoints (about 23%), SHA-256 over canonical JSON (about 21%), validation, fold and JSON (about 17%), GC (8%); the engine floor below is the ceiling',
    postgres:
      'ours: the log_head row lock (as above) and the client: validation, fold and SHA-256 for all 8 writers run on one core, and the server has the other',
  },
  readAll: {
    memory: 'an array slice: the events are frozen and not copied',
    sqlite: 'ours: one JSON.parse of data per row and one object per row, in one synchronous call; Emmett: rows built by sqlite3 on its thread pool, then two JSON parses (data, metadata) and BigInts per row',
    postgres:
      'ours: pg decoding every column of every row in the text protocol (about 60% of the client time), then waiting for the server; Emmett: no index on global_position, so every page is a sequential scan and a sort of the whole table',
  },
};

export const NOTES = [
  "Emmett SQLite runs on one sqlite3 connection kept for the store's life (connectionOptions.singleton); given only a file name, Emmett opens a new connection for every call",
  'Emmett SQLite: Emmett fires PRAGMA journal_mode = WAL without waiting for it and it races with the first transaction (7 of 10 trials here stayed in DELETE mode); the benchmark sets WAL itself and checks it',
  "ids: Emmett gets our event ids as metadata.messageId (it stores them, and does not check them) and our times in its metadata",
];

export const DOES = {
  hotpatch:
    'ours, per append: validates every event (envelope, catalog data) and folds it through the device lifecycle, checks the expected version, de-duplicates by event id (lookup and a unique index), extends the per-stream SHA-256 hash chain, and upserts the stream head and a state snapshot, all in one transaction',
  emmett:
    "Emmett's, per append: no validation, no lifecycle, no de-duplication by id (a re-sent event is stored twice), no hash chain, no snapshot; a stream row and the message rows (with a metadata JSON) in one transaction",
};

// ---------------------------------------------------------------------------------------------------------------
// Targets and the printed report

const rate = (report, key, name) => report.results[key]?.[name]?.eventsPerSec;

export function targets(report) {
  const t = [];
  const check = (what, value, goal, unavailable) =>
    t.push({ target: what, value, goal, status: value === undefined ? `not measured${unavailable ? ` (${unavailable})` : ''}` : value >= goal ? 'met' : 'NOT met' });
  const why = (name) => report.stores[name]?.unavailable ?? (report.stores[name]?.failed ? 'failed' : report.stores[name] ? undefined : 'not selected');
  const ratio = (key, ours, theirs) => {
    const a = rate(report, key, ours);
    const b = rate(report, key, theirs);
    return a !== undefined && b !== undefined ? round(a / b, 2) : undefined;
  };
  check('SQLite append, batches of 1,000: ≥ 100,000 events/s', rate(report, 'append1000', 'sqlite'), 100_000, why('sqlite'));
  check('SQLite ≥ 2× Emmett SQLite (batches of 1,000)', ratio('append1000', 'sqlite', 'emmett-sqlite'), 2, why('sqlite') ?? why('emmett-sqlite'));
  check(`PostgreSQL append, ${PG_WRITERS} writers, batches of 1,000: ≥ 30,000 events/s`, rate(report, 'append1000', 'postgres'), 30_000, why('postgres'));
  check(`PostgreSQL ≥ 2× Emmett PostgreSQL (${PG_WRITERS} writers, batches of 1,000)`, ratio('append1000', 'postgres', 'emmett-postgres'), 2, why('postgres') ?? why('emmett-postgres'));
  check('readAll from SQLite: ≥ 300,000 events/s', rate(report, 'readAll', 'sqlite'), 300_000, why('sqlite'));
  check('readAll from PostgreSQL: ≥ 300,000 events/s', rate(report, 'readAll', 'postgres'), 300_000, why('postgres'));
  return t;
}

export const round = (x, digits) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
export const fmt = (n) => (n === undefined || n === null ? '—' : n.toLocaleString('en-US'));
const pad = (s, n) => String(s).padEnd(n);
const padL = (s, n) => String(s).padStart(n);

const ENGINES = [
  { engine: 'memory', title: 'in-memory', ours: 'memory', theirs: undefined },
  { engine: 'sqlite', title: 'SQLite', ours: 'sqlite', theirs: 'emmett-sqlite' },
  { engine: 'postgres', title: 'PostgreSQL', ours: 'postgres', theirs: 'emmett-postgres' },
];

function cell(report, key, name, field = 'eventsPerSec') {
  const s = report.stores[name];
  if (!s) return 'not selected';
  if (s.unavailable) return s.unavailable;
  if (s.failed) return 'FAILED';
  const r = report.results[key]?.[name];
  return r === undefined ? '—' : fmt(r[field]);
}

export function render(report) {
  const out = [];
  const line = (s = '') => out.push(s);
  line(`Event store benchmark${report.quick ? ' (--quick: smoke-run counts, figures not meaningful)' : ''}: hotpatch vs Emmett, same events, one run`);
  line(`node ${report.machine.node}, ${report.machine.cores} cores; PostgreSQL ${report.postgres?.version ?? 'unreachable'} at ${report.postgresUrl}`);
  line(`load average (1, 5, 15 min) at start ${report.machine.loadAverageAtStart.join(', ')}, at end ${report.machine.loadAverageAtEnd.join(', ')}: the machine is shared, figures move between runs`);
  line();
  line('Stores and durability:');
  for (const s of Object.values(report.stores)) line(`  ${pad(s.label, 21)} ${s.unavailable ?? s.durability}`);
  if (report.stores.postgres?.unavailable === 'not built yet') line('hotpatch PostgreSQL store: not built yet (no packages/store-postgres/dist/index.js)');
  for (const note of NOTES) line(`  note: ${note}`);
  line();
  line(`Work (ours and Emmett's get exactly the same events, built before each measurement, and take turns, measurement by measurement${report.config.rounds > 1 ? `; each append measurement ${report.config.rounds} times on fresh streams, the store that goes first alternating: medians shown, rounds below` : ''}):`);
  for (const p of report.config.phases) {
    line(`  batches of ${fmt(p.batch)}: ${fmt(p.events)} events in ${fmt(p.appends)} appends, round-robin over ${fmt(p.streamPool)} streams (${fmt(p.streamsTouched)} touched), after ${p.warmupAppends} warm-up appends; ${p.batch === 1 ? '1 writer for every store' : `PostgreSQL: ${PG_WRITERS} writers on disjoint streams, each its own store instance and pool; SQLite, in-memory: 1 writer`}`);
  }
  line(`  readAll: every event each store holds (${fmt(Object.values(report.results.readAll ?? {})[0]?.expected)}), pages of ${fmt(READ_PAGE)}, in global order`);
  line(`  ${DOES.hotpatch}.`);
  line(`  ${DOES.emmett}.`);

  const tables = [
    { key: 'append1', title: 'Append, batches of 1 (one writer)', latency: true },
    { key: 'append100', title: 'Append, batches of 100' },
    { key: 'append1000', title: 'Append, batches of 1,000' },
    { key: 'readAll', title: 'readAll' },
  ];
  for (const t of tables) {
    line();
    line(`${t.title}: events/s`);
    const head = `  ${pad('engine', 11)} ${padL('hotpatch', 14)} ${padL('Emmett', 14)} ${padL('ours/Emmett', 12)}${t.latency ? `  ${padL('p50 ms ours', 12)} ${padL('Emmett', 8)}  ${padL('p99 ms ours', 12)} ${padL('Emmett', 8)}` : ''}`;
    line(head);
    for (const e of ENGINES) {
      if (!report.stores[e.ours] && !(e.theirs && report.stores[e.theirs])) continue;
      const a = rate(report, t.key, e.ours);
      const b = e.theirs ? rate(report, t.key, e.theirs) : undefined;
      const ratio = a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}×` : '—';
      const writers = report.results[t.key]?.[e.ours]?.writers ?? report.results[t.key]?.[e.theirs]?.writers;
      let row = `  ${pad(e.title, 11)} ${padL(cell(report, t.key, e.ours), 14)} ${padL(e.theirs ? cell(report, t.key, e.theirs) : '—', 14)} ${padL(ratio, 12)}`;
      if (t.latency) row += `  ${padL(cell(report, t.key, e.ours, 'p50Ms'), 12)} ${padL(e.theirs ? cell(report, t.key, e.theirs, 'p50Ms') : '—', 8)}  ${padL(cell(report, t.key, e.ours, 'p99Ms'), 12)} ${padL(e.theirs ? cell(report, t.key, e.theirs, 'p99Ms') : '—', 8)}`;
      line(row + (writers > 1 ? `  (${writers} writers)` : '') + (report.config.rounds > 1 && t.key !== 'readAll' ? '  (medians)' : ''));
      const ra = report.results[t.key]?.[e.ours]?.rounds;
      const rb = e.theirs ? report.results[t.key]?.[e.theirs]?.rounds : undefined;
      if (ra && rb) line(`  ${pad('', 11)} rounds: ours ${ra.map(fmt).join(' / ')}; Emmett ${rb.map(fmt).join(' / ')}; ratio ${ra.map((x, i) => `${(x / rb[i]).toFixed(2)}×`).join(' ')}`);
      else if (ra) line(`  ${pad('', 11)} rounds: ${ra.map(fmt).join(' / ')}`);
      line(`  ${pad('', 11)} bound: ${BOUNDS[t.key][e.engine]}`);
    }
    if (t.key === 'readAll') {
      for (const [name, r] of Object.entries(report.results.readAll ?? {})) if (r.events !== r.expected) line(`  !! ${report.stores[name].label} read ${fmt(r.events)} events, expected ${fmt(r.expected)}`);
    }
  }

  line();
  line("Floors (the engine alone, measured just before that engine's stores run):");
  const f = report.floors;
  if (f.sqliteCommitsPerSec) line(`  SQLite, WAL, synchronous=FULL, one-row transactions: ${fmt(f.sqliteCommitsPerSec)} commits/s — the ceiling for batches of 1`);
  if (f.sqliteInsertRowsPerSec) line(`  SQLite, our events table and indexes, pre-built rows, 1,000 per transaction, FULL: ${fmt(f.sqliteInsertRowsPerSec)} rows/s — the ceiling for ours in batches of 1,000`);
  if (f.pgCommitsPerSec) line(`  PostgreSQL, one connection, one-row autocommit INSERTs: ${fmt(f.pgCommitsPerSec)} commits/s; SELECT 1: ${fmt(f.pgRoundTripsPerSec)} round trips/s`);
  line(`  JSON.parse of one event's data: ${fmt(f.jsonParsePerSec)} per second on one core`);

  line();
  line('Targets:');
  for (const t of report.targets) {
    const value = t.value === undefined ? '' : t.goal <= 10 ? ` (${t.value}×)` : ` (${fmt(t.value)} events/s)`;
    line(`  [${t.status === 'met' ? 'met' : t.status === 'NOT met' ? 'NOT met' : t.status}] ${t.target}${value}`);
  }
  for (const s of Object.values(report.stores)) if (s.failed) line(`\n${s.label} FAILED:\n${s.failed}`);
  return `${out.join('\n')}\n`;
}
