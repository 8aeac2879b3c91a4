/**
 * `hotpatch import` is one transaction: a file that conflicts with the store writes nothing, a writer running meanwhile
 * waits for it (or fails in one line), a killed import leaves nothing; `--json` answers in JSON whatever happens, and a
 * terminal sees progress. Real files, real stores, the CLI and its rivals in real processes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DatabaseBusyError } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { runCaptured } from './main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const Database = createRequire(join(root, 'packages/store-sqlite/package.json'))('better-sqlite3') as typeof import('better-sqlite3');
const pg = createRequire(join(root, 'packages/store-postgres/package.json'))('pg') as typeof import('pg');
const dir = await mkdtemp(join(tmpdir(), 'hotpatch-cli-import-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => runCaptured(argv);
const demo = join(dir, 'demo', 'hotpatch.db');
const exported = join(dir, 'demo', 'events.jsonl');
const conflicting = join(dir, 'conflicting.jsonl');
const bulk = join(dir, 'bulk.jsonl');
const id = (n: number) => `0193f2a0-0000-7000-9000-${n.toString(16).padStart(12, '0')}`;
const exportOf = async (store: string) => (await cli('export', '--store', store)).out;

beforeAll(async () => {
  expect((await cli('demo', '--devices', '25', '--out', join(dir, 'demo'))).code).toBe(0);
  const events = (await readFile(exported, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; stream: string; version: number; type: string; hash?: string; position?: number });
  // The file: valid on its own (the demo's devices under new names and ids, without hashes), its last event
  // the first of device/dev-00001, which the demo's store holds already.
  const devices = events.filter((e) => e.stream.startsWith('device/')).map(({ hash, position, ...e }, i) => ({ ...e, id: id(i + 1), stream: e.stream.replace('device/', 'device/new-') }));
  const { hash, position, ...first } = events.find((e) => e.stream === 'device/dev-00001' && e.version === 1)!;
  await writeFile(conflicting, [...devices, { ...first, id: id(100_000) }].map((e) => JSON.stringify(e)).join('\n') + '\n');
  // A file long enough to import for a while: the demo's log (already in its store), then 20,000 events of new devices;
  // none with a hash (a log carries hashes on every event or on none).
  const unhashed = events.map(({ hash, position, ...e }) => e);
  const enrolled = devices.find((e) => e.type === 'DeviceEnrolled')!;
  const assessed = devices.find((e) => e.type === 'EligibilityAssessed')!;
  const more = Array.from({ length: 4_000 }, (_, d) => [
    { ...enrolled, id: id(200_000 + d * 5), stream: `device/bulk-${d}`, version: 1 },
    ...Array.from({ length: 4 }, (_, k) => ({ ...assessed, id: id(200_001 + d * 5 + k), stream: `device/bulk-${d}`, version: k + 2 })),
  ]).flat();
  await writeFile(bulk, [...unhashed, ...more].map((e) => JSON.stringify(e)).join('\n') + '\n');
});

describe('hotpatch import into SQLite', () => {
  it('writes nothing when the file’s last event conflicts with the store, and says so in one line (or in JSON)', async () => {
    const target = join(dir, 'conflict.db');
    await copyFile(demo, target);
    const before = await exportOf(`sqlite:${target}`);
    const r = await cli('import', conflicting, '--unhashed', '--store', `sqlite:${target}`);
    expect(r).toEqual({ code: 1, out: expect.stringMatching(/^integrity NOT checked: /), err: expect.stringMatching(/^hotpatch import: device\/dev-00001: expected version 0, but the stream is at version \d+; nothing imported$/) });
    expect(await exportOf(`sqlite:${target}`)).toBe(before);
    const asJson = await cli('import', conflicting, '--unhashed', '--store', `sqlite:${target}`, '--json');
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.out)).toEqual({ ok: false, file: conflicting, store: `sqlite:${target}`, error: { code: 'WRONG_EXPECTED_VERSION', message: expect.stringMatching(/; nothing imported$/) } });
    expect(await exportOf(`sqlite:${target}`)).toBe(before);
  });

  it('answers --json in JSON when the file is invalid, creating no store', async () => {
    const lines = (await readFile(exported, 'utf8')).trimEnd().split('\n');
    lines[lines.length - 1] = '{"not": "an event"';
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, lines.join('\n') + '\n');
    const target = join(dir, 'never.db');
    const r = await cli('import', bad, '--store', `sqlite:${target}`, '--json');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`hotpatch import: 1 problem in ${bad}; nothing imported`);
    expect(JSON.parse(r.out)).toEqual({ ok: false, file: bad, events: lines.length, problems: [{ code: 'INVALID_EVENT', message: expect.stringMatching(new RegExp(`^line ${lines.length}: `)) }] });
    expect(existsSync(target)).toBe(false);
  });

  it('is one transaction: a writer in another process waits for its commit, or fails in one line; killed, it leaves nothing', async () => {
    const target = join(dir, 'busy.db');
    await copyFile(demo, target);
    const before = await exportOf(`sqlite:${target}`);
    const importing = run('import', bulk, '--unhashed', '--store', `sqlite:${target}`);
    await until(() => sqliteLocked(target));
    // A writer that does not wait long fails, naming the file, and writes nothing.
    const impatient = openSqliteEventStore({ path: target, busyTimeoutMs: 100 });
    await expect(impatient.appendToStream('ring/broad', [{ type: 'RingPaused', time: new Date().toISOString(), data: { by: 'tenant', reason: 'x' } }])).rejects.toThrow(DatabaseBusyError);
    await impatient.close();
    // The CLI's pause waits for the import's commit, then writes after it.
    const pausing = run('pause', '--store', `sqlite:${target}`, '--ring', 'broad', '--by', 'tenant', '--reason', 'freeze', '--json');
    expect(await importing).toMatchObject({ code: 0, stderr: '' });
    const paused = await pausing;
    expect(paused).toMatchObject({ code: 0, stderr: '' });
    const lines = (await exportOf(`sqlite:${target}`)).split('\n');
    expect(lines.length).toBe(before.split('\n').length + 20_000 + 1);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ stream: 'ring/broad', type: 'RingPaused', position: JSON.parse(paused.stdout).position });
    expect((await cli('verify', '--store', `sqlite:${target}`)).code).toBe(0);

    // Killed while it writes: nothing of it is there.
    const killed = join(dir, 'killed.db');
    await copyFile(demo, killed);
    const child = spawn(process.execPath, [bin, 'import', bulk, '--unhashed', '--store', `sqlite:${killed}`]);
    await until(() => sqliteLocked(killed));
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await exportOf(`sqlite:${killed}`)).toBe(before);
  }, 60_000);

  it('a file changed between its check and its write: nothing imported, and the store it was creating is not left behind', async () => {
    const file = join(dir, 'changing.jsonl');
    await copyFile(bulk, file);
    const text = await readFile(file, 'utf8');
    const last = text.trimEnd().split('\n').at(-1)!;
    const target = join(dir, 'changing.db');
    // At the first progress of the second reading (the first megabyte written), the file's last line is overwritten.
    let changed = false;
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      if (!changed && / of \d+ events/.test(String(chunk))) {
        changed = true;
        const fd = openSync(file, 'r+');
        writeSync(fd, '{' + ' '.repeat(Buffer.byteLength(last) - 1), Buffer.byteLength(text) - Buffer.byteLength(last) - 1);
        closeSync(fd);
      }
      return true;
    });
    try {
      const { main } = await import('./main.js');
      const err: string[] = [];
      expect(await main(['import', file, '--unhashed', '--store', `sqlite:${target}`], { out: () => {}, err: (t) => err.push(t), isTTY: true })).toBe(1);
      expect(changed).toBe(true);
      expect(err).toEqual([expect.stringMatching(new RegExp(`^hotpatch import: .*line ${text.trimEnd().split('\n').length}.*; nothing imported$`))]);
      expect(existsSync(target)).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });

  it('shows its progress on stderr when the output is a terminal, and nothing otherwise', async () => {
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));
    try {
      const { main } = await import('./main.js');
      const out: string[] = [];
      const io = (isTTY: boolean) => ({ out: (t: string) => out.push(t), err: (t: string) => writes.push(t), isTTY });
      expect(await main(['import', exported, '--store', `sqlite:${join(dir, 'progress.db')}`], io(true))).toBe(0);
      expect(writes[0]).toBe(`\rimport: checking ${exported}…\x1b[K`);
      expect(writes.some((w) => /^\rimport: \d+ of \d+ events \(\d+%\)\x1b\[K$/.test(w))).toBe(true);
      expect(writes.at(-1)).toBe('\r\x1b[K');
      writes.length = 0;
      expect(await main(['import', exported, '--store', `sqlite:${join(dir, 'quiet.db')}`], io(false))).toBe(0);
      expect(writes).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});

const postgresUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
describe.skipIf(!postgresUrl)('hotpatch import into PostgreSQL', () => {
  const schemas: string[] = [];
  const at = (name: string) => {
    const schema = `hotpatch_cli_import_${process.pid}_${name}`;
    schemas.push(schema);
    const u = new URL(postgresUrl!);
    u.searchParams.set('schema', schema);
    return { schema, url: u.toString() };
  };
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('writes nothing when the file’s last event conflicts with the store', async () => {
    const { url } = at('conflict');
    expect((await cli('import', exported, '--store', url)).code).toBe(0);
    const before = await exportOf(url);
    const r = await cli('import', conflicting, '--unhashed', '--store', url);
    expect(r).toEqual({ code: 1, out: expect.stringMatching(/^integrity NOT checked: /), err: expect.stringMatching(/^hotpatch import: device\/dev-00001: expected version 0, but the stream is at version \d+; nothing imported$/) });
    expect(await exportOf(url)).toBe(before);
  });

  it('is one transaction: a pause in another process waits for its commit and writes after it, or fails in one line past its busy timeout', async () => {
    const { schema, url } = at('busy');
    expect((await cli('import', exported, '--store', url)).code).toBe(0);
    const before = await exportOf(url);
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      const importing = run('import', bulk, '--unhashed', '--store', url);
      // The import holds the log head (locked at its first append, to its commit).
      await until(
        async () =>
          (await admin.query("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'log_head' AND l.granted AND l.mode = 'RowShareLock'", [schema]))
            .rowCount! > 0,
      );
      const pausing = run('pause', '--store', url, '--ring', 'broad', '--by', 'tenant', '--reason', 'freeze', '--json');
      expect(await importing).toMatchObject({ code: 0, stderr: '' });
      const paused = await pausing;
      const lines = (await exportOf(url)).split('\n');
      if (paused.code === 0) {
        expect(paused.stderr).toBe('');
        expect(lines.length).toBe(before.split('\n').length + 20_000 + 1);
        expect(JSON.parse(lines.at(-1)!)).toMatchObject({ stream: 'ring/broad', type: 'RingPaused', position: JSON.parse(paused.stdout).position });
      } else {
        // The import held the log head past the pause's busy timeout (10 s; a loaded machine): it gave up, writing nothing.
        expect(paused).toMatchObject({ code: 3, stderr: expect.stringMatching(/^hotpatch pause: .*another process has held its write lock for more than 10 s .*nothing written; try again once it is done\n$/) });
        expect(lines.length).toBe(before.split('\n').length + 20_000);
      }
      expect((await cli('verify', '--store', url)).code).toBe(0);
    } finally {
      await admin.end();
    }
  }, 60_000);
});

/** Runs the built CLI in a process of its own. */
async function run(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...argv]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Polls `condition` every 5 ms for up to 20 s. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((ok) => setTimeout(ok, 5));
  }
}

/** Whether another connection holds the file's write lock now. */
function sqliteLocked(path: string): boolean {
  if (!existsSync(path)) return false;
  const db = new Database(path, { timeout: 0 });
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return false;
  } catch (error) {
    if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw error;
    return true;
  } finally {
    db.close();
  }
}
