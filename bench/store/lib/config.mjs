/** store.bench.mjs's flags, sizes and small helpers (see its header for what the flags mean). */
export const STORE_NAMES = ['memory', 'sqlite', 'postgres', 'emmett-sqlite', 'emmett-postgres'];
const argv = process.argv.slice(2);
export const asJson = argv.includes('--json');
export const quick = argv.includes('--quick');
const only = new Set();
let rounds = 1;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--rounds' || a.startsWith('--rounds=')) {
    const value = a === '--rounds' ? argv[++i] : a.slice('--rounds='.length);
    rounds = Number(value);
    if (!Number.isSafeInteger(rounds) || rounds < 1) fail(`--rounds: expected a whole number ≥ 1, got ${JSON.stringify(value)}`);
  } else if (a === '--only' || a.startsWith('--only=')) {
    const value = a === '--only' ? argv[++i] : a.slice('--only='.length);
    for (const name of (value ?? '').split(',').filter(Boolean)) {
      if (!STORE_NAMES.includes(name)) fail(`--only: unknown store ${JSON.stringify(name)}; one of ${STORE_NAMES.join(', ')}`);
      only.add(name);
    }
    if (!value) fail('--only needs a store name');
  } else if (a !== '--json' && a !== '--quick') fail(`unknown argument ${a}; flags: --json, --quick, --only <name>, --rounds N`);
}
export const selected = (name) => only.size === 0 || only.has(name);

function fail(message) {
  process.stderr.write(`bench:store: ${message}\n`);
  process.exit(2);
}

export const STREAM_POOL = 10_000;
export const PG_WRITERS = 8;
export const READ_PAGE = 10_000;
/** Events per timed run, streams, and warm-up appends, per batch size. */
export const PHASES = [
  { key: 'append1', batch: 1, events: quick ? 1_000 : 20_000, streams: quick ? 100 : 1_000, warmup: quick ? 50 : 300 },
  { key: 'append100', batch: 100, events: quick ? 10_000 : 200_000, streams: STREAM_POOL, warmup: quick ? 5 : 20 },
  { key: 'append1000', batch: 1_000, events: quick ? 20_000 : 200_000, streams: STREAM_POOL, warmup: quick ? 2 : 5 },
];
export const PG_URL = process.env.HOTPATCH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REPO = new URL('../../../', import.meta.url);
export const OUR_PG_DIST = new URL('packages/store-postgres/dist/index.js', REPO);
export const RUN_ID = `${process.pid}_${Date.now().toString(36)}`;

export const log = (line) => process.stderr.write(`${line}\n`);
/** The middle value (the lower middle of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
/**
 * With HOTPATCH_BENCH_TRACE=1, the monotonic clock in µs at each timed run's start and end (the clock of a
 * `node --cpu-prof` profile's timestamps), to cut a profile into measurements.
 */
export const trace = (what) => {
  if (process.env.HOTPATCH_BENCH_TRACE) log(`trace ${process.hrtime.bigint() / 1000n} ${what}`);
};


/** How many times each append measurement runs (--rounds). */
export const ROUNDS = rounds;
