/**
 * The read commands never write: they open a store read-only, never create or migrate one, read while another
 * process holds the write lock, and refuse, in one line with exit 1, a database that is not a hotpatch store, is of
 * another schema, or cannot be reached, leaving it as it was.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// The stores' own drivers (the CLI reaches them only through the stores).
const Database = createRequire(join(root, 'packages/store-sqlite/package.json'))('better-sqlite3') as typeof import('better-sqlite3');
const pg = createRequire(join(root, 'packages/store-postgres/package.json'))('pg') as typeof import('pg');
const dir = await mkdtemp(join(tmpdir(), 'hotpatch-cli-read-only-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => runCaptured(argv);
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
const demo = join(dir, 'demo', 'hotpatch.db');
const policy = join(dir, 'demo', 'policy-lenient-pilot.json');
/** Every command that reads a store, as it would be run on `store`. */
const readers = (store: string) => [
  ['status', '--store', store],
  ['status', '--store', store, '--projection', 'ops'],
  ['verify', '--store', store],
  ['replay', '--store', store],
  ['replay', '--store', store, '--device', 'dev-00001'],
  ['history', '--store', store, '--device', 'dev-00001'],
  ['history', '--store', store, '--rollout', 'HP-2026-02'],
  ['export', '--store', store],
  ['whatif', '--store', store, '--policy', policy],
  ['report', '--store', store, '--rollout', 'HP-2026-02', '--out', join(dir, 'report.html')],
];

beforeAll(async () => {
  expect((await cli('demo', '--devices', '25', '--out', join(dir, 'demo'))).code).toBe(0);
});

describe('the read commands on SQLite', () => {
  it('refuse a file that is not a hotpatch store, or of a newer schema, in one line, its bytes unchanged', async () => {
    const empty = join(dir, 'empty.db');
    await writeFile(empty, '');
    const text = join(dir, 'notes.db');
    await writeFile(text, 'not a database, some notes\n'.repeat(50));
    const theirs = join(dir, 'theirs.db');
    const other = new Database(theirs);
    other.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders (item) VALUES ('bolts')");
    other.close();
    const newer = join(dir, 'newer.db');
    await writeFile(newer, await readFile(demo));
    const db = new Database(newer);
    db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 'x')").run();
    db.close();
    for (const [path, says] of [
      [empty, 'an empty file, not a hotpatch store'],
      [text, 'not a SQLite database'],
      [theirs, "a SQLite database without hotpatch's tables (it holds orders), not a hotpatch store"],
      [newer, 'its hotpatch schema is at version 99, newer than this build knows (4); upgrade hotpatch'],
    ] as const) {
      const before = await sha(path);
      for (const argv of readers(`sqlite:${path}`)) {
        const r = await cli(...argv);
        expect(r, argv.join(' ')).toEqual({ code: 1, out: '', err: `hotpatch ${argv[0]}: ${path}: ${says}` });
      }
      expect(await sha(path), path).toBe(before);
    }
    const journal = new Database(theirs, { readonly: true });
    expect(journal.pragma('journal_mode', { simple: true })).toBe('delete');
    journal.close();
    // A writer refuses a file that is not SQLite, in one line, and leaves it as it is.
    const before = await sha(text);
    expect(await cli('pause', '--store', `sqlite:${text}`, '--ring', 'broad', '--by', 'tenant', '--reason', 'x')).toEqual({ code: 1, out: '', err: `hotpatch pause: ${text}: not a SQLite database` });
    expect(await sha(text)).toBe(before);
  });

  it('read a store without changing a byte of it, while another process holds its write lock', async () => {
    const before = await sha(demo);
    const locker = spawn(process.execPath, [
      '-e',
      `const db = new (require(${JSON.stringify(join(root, 'packages/store-sqlite/node_modules/better-sqlite3'))}))(${JSON.stringify(demo)});
       db.exec('BEGIN IMMEDIATE'); db.prepare("INSERT INTO checkpoints VALUES ('lock', 0, 'x')").run();
       console.log('locked'); setInterval(() => {}, 60000);`,
    ]);
    try {
      const [line] = await createInterface({ input: locker.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
      expect(line).toBe('locked');
      for (const argv of readers(`sqlite:${demo}`)) {
        const r = await cli(...argv);
        expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(0);
      }
    } finally {
      locker.kill('SIGKILL');
    }
    expect(await sha(demo)).toBe(before);
  }, 60_000);
});

const postgresUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
describe.skipIf(!postgresUrl)('the read commands on PostgreSQL', () => {
  const at = (schema: string, url = postgresUrl!) => {
    const u = new URL(url);
    u.searchParams.set('schema', schema);
    return u.toString();
  };

  it('refuse a schema that holds no store without creating it, and a server they cannot use, in one line', async () => {
    const schema = `hotpatch_cli_typo_${process.pid}`;
    const server = new URL(postgresUrl!);
    for (const argv of readers(at(schema))) {
      const r = await cli(...argv);
      expect(r, argv.join(' ')).toEqual({
        code: 1,
        out: '',
        err: `hotpatch ${argv[0]}: PostgreSQL database ${server.pathname.slice(1)} at ${server.hostname}:${server.port || 5432} as ${server.username}: no hotpatch store in schema ${schema}: there is no such schema`,
      });
    }
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      expect((await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount).toBe(0);
    } finally {
      await admin.end();
    }
    const elsewhere = (change: (u: URL) => void) => {
      const u = new URL(postgresUrl!);
      change(u);
      return u.toString();
    };
    // A server that cannot be used is the environment's failure (exit 3); a schema name that cannot be one, the input's (1).
    for (const [url, says, code] of [
      [elsewhere((u) => (u.hostname = 'no-such-host.invalid')), /at no-such-host\.invalid:\d+ as .*: cannot connect: unknown host$/, 3],
      [elsewhere((u) => (u.port = '1')), /at .*:1 as .*: cannot connect: connection refused: is PostgreSQL running there, on that port\?$/, 3],
      [elsewhere((u) => (u.username = 'no_such_role')), /as no_such_role: cannot connect: role "no_such_role" does not exist$/, 3],
      [elsewhere((u) => (u.pathname = '/no_such_database')), /PostgreSQL database no_such_database at .*: cannot connect: database "no_such_database" does not exist$/, 3],
      [at('Not_A_Name'), /PostgreSQL schema "Not_A_Name": a schema name must be lower case letters, digits and _/, 1],
    ] as const) {
      const r = await cli('verify', '--store', url);
      expect(r.code, url).toBe(code);
      expect(r.err, url).toMatch(new RegExp(`^hotpatch verify: [^\\n]*${says.source}`));
    }
  });
});
