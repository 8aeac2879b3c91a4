/**
 * The CLI as a hurried user and an attacker use it: inputs that are not what they claim, targets that cannot be
 * written, stores that cannot be reached. Each error is one line naming what and where, with its documented exit
 * code; a command that fails leaves every file as it was; the stack trace only with --debug.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCaptured } from './main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// SQLite itself, to make a database that is not a hotpatch store (the cli package reaches it through the store).
const Database = createRequire(join(root, 'packages/store-sqlite/package.json'))('better-sqlite3') as typeof import('better-sqlite3');
const dir = await mkdtemp(join(tmpdir(), 'hotpatch-hostile-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => runCaptured(argv);
const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

const demoDir = join(dir, 'demo');
const db = join(demoDir, 'hotpatch.db');
const log = join(demoDir, 'events.jsonl');
/** A port nothing listens on: a PostgreSQL URL there cannot connect. */
const DEAD_POSTGRES = 'postgres://postgres@127.0.0.1:1/x';

beforeAll(async () => {
  expect((await cli('demo', '--devices', '20', '--out', demoDir)).code).toBe(0);
});

/** One line of error, no stack trace. */
function oneLine(err: string): void {
  expect(err.split('\n')).toHaveLength(1);
  expect(err).not.toMatch(/\n\s+at /);
}

describe('a command that writes a file writes all of it or nothing', () => {
  const unreadable = async (): Promise<Array<[string, string]>> => {
    const garbage = join(dir, 'garbage.jsonl');
    await writeFile(garbage, 'this is not a timeline\n');
    const text = join(dir, 'text.db');
    await writeFile(text, 'not a database, some text that is long enough to have a header\n');
    return [
      ['an unreachable PostgreSQL', DEAD_POSTGRES],
      ['an invalid timeline file', garbage],
      ['sqlite: naming a text file', `sqlite:${text}`],
      ['a missing database', `sqlite:${join(dir, 'missing.db')}`],
    ];
  };

  it('export --out leaves an existing file as it was when the store cannot be read', async () => {
    const out = join(dir, 'kept', 'export.jsonl');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, 'what was there before\n');
    for (const [what, store] of await unreadable()) {
      const r = await cli('export', '--store', store, '--out', out);
      expect(r.code, what).not.toBe(EXIT.ok);
      expect(r.err, what).toMatch(/^hotpatch export: /);
      expect(r.err, what).not.toMatch(/\n\s+at /);
      expect(await readFile(out, 'utf8'), what).toBe('what was there before\n');
    }
    // No temporary file is left beside it.
    expect(await readdir(dirname(out))).toEqual(['export.jsonl']);
  });

  it('export --out over an existing file keeps its permissions, and writes through a link to it', async () => {
    const real = join(dir, 'private.jsonl');
    await writeFile(real, 'old\n', { mode: 0o600 });
    const link = join(dir, 'link.jsonl');
    await symlink(real, link);
    expect((await cli('export', '--store', `sqlite:${db}`, '--out', link)).code).toBe(EXIT.ok);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe(await readFile(log, 'utf8'));
    expect((await stat(real)).mode & 0o777).toBe(0o600);
  });

  it('export --out a device or a pipe writes to it; links in a loop are refused; - is standard output', async () => {
    expect((await cli('export', '--store', `sqlite:${db}`, '--out', '/dev/null')).code).toBe(EXIT.ok);
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = promisify(execFile)('wc', ['-c', fifo]);
    expect((await cli('export', '--store', `sqlite:${db}`, '--out', fifo)).code).toBe(EXIT.ok);
    expect(Number((await reader).stdout.trim().split(' ')[0])).toBe((await readFile(log)).length);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    const [a, b] = [join(dir, 'loop-a'), join(dir, 'loop-b')];
    await symlink(b, a);
    await symlink(a, b);
    expect(await cli('export', '--store', `sqlite:${db}`, '--out', a)).toMatchObject({ code: EXIT.failed, err: `hotpatch export: cannot write ${a}: its symbolic links form a loop` });
    expect((await lstat(a)).isSymbolicLink()).toBe(true);
    expect((await cli('export', '--store', `sqlite:${db}`, '--out', '-')).out + '\n').toBe(await readFile(log, 'utf8'));
  });

  it('export --out makes missing folders only once the export is whole', async () => {
    const out = join(dir, 'new', 'deeper', 'export.jsonl');
    expect((await cli('export', '--store', DEAD_POSTGRES, '--out', out)).code).not.toBe(EXIT.ok);
    expect(await readdir(dir)).not.toContain('new');
    const r = await cli('export', '--store', `sqlite:${db}`, '--out', out);
    expect(r.code).toBe(EXIT.ok);
    expect(await readFile(out, 'utf8')).toBe(await readFile(log, 'utf8'));
  });

  it('export --out a folder, or into a place that cannot be written, is one line and writes nothing', async () => {
    const folder = await cli('export', '--store', `sqlite:${db}`, '--out', demoDir);
    expect(folder).toMatchObject({ code: EXIT.failed, err: `hotpatch export: cannot write ${demoDir}: it is a folder` });
    // /sys refuses new files even to root.
    const denied = await cli('export', '--store', `sqlite:${db}`, '--out', '/sys/hotpatch-export.jsonl');
    expect(denied).toMatchObject({ code: EXIT.environment, err: 'hotpatch export: cannot write /sys/hotpatch-export.jsonl: permission denied (EACCES)' });
  });

  it('demo replaces its database, timeline and policy only once the new ones are whole', async () => {
    const out = join(dir, 'demo-again');
    expect((await cli('demo', '--devices', '10', '--out', out)).code).toBe(EXIT.ok);
    const files = ['hotpatch.db', 'events.jsonl', 'policy-lenient-pilot.json'];
    const before = await Promise.all(files.map((f) => sha256(join(out, f))));
    // The timeline cannot be written (a folder stands in its place): the demo fails after building its log, and
    // the database and the policy of the run before are untouched, with no temporary file left.
    await rm(join(out, 'events.jsonl'));
    await mkdir(join(out, 'events.jsonl'));
    const failed = await cli('demo', '--devices', '10', '--out', out);
    expect(failed).toMatchObject({ code: EXIT.failed, err: `hotpatch demo: cannot write ${join(out, 'events.jsonl')}: it is a folder` });
    expect([before[0], before[2]]).toEqual([await sha256(join(out, files[0]!)), await sha256(join(out, files[2]!))]);
    expect((await readdir(out)).sort()).toEqual(files.slice().sort());
    // Run again, it replaces all three, and leaves nothing else.
    await rm(join(out, 'events.jsonl'), { recursive: true });
    expect((await cli('demo', '--devices', '10', '--out', out)).code).toBe(EXIT.ok);
    expect(await sha256(join(out, 'events.jsonl'))).toBe(before[1]);
    expect((await readdir(out)).sort()).toEqual(files.slice().sort());
  });
});

describe('a writer that fails writes nothing', () => {
  it('pause, resume and import leave someone else\'s database as it was; a refused pause leaves the store as it was', async () => {
    const foreign = join(dir, 'foreign.db');
    const other = new Database(foreign);
    other.exec('CREATE TABLE t (a)');
    other.close();
    const before = await sha256(foreign);
    for (const argv of [
      ['pause', '--store', `sqlite:${foreign}`, '--ring', 'broad', '--by', 'tenant', '--reason', 'x'],
      ['resume', '--store', `sqlite:${foreign}`, '--ring', 'broad', '--by', 'tenant'],
      ['import', log, '--store', `sqlite:${foreign}`],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv[0]).toBe(EXIT.failed);
      expect(r.err, argv[0]).toMatch(/without hotpatch's tables \(it holds t\), not a hotpatch store/);
      expect(await sha256(foreign), argv[0]).toBe(before);
    }
    const copy = join(dir, 'refused.db');
    await writeFile(copy, await readFile(db));
    const unchanged = await sha256(copy);
    const halted = await cli('pause', '--store', `sqlite:${copy}`, '--rollout', 'HP-2026-02', '--by', 'tenant', '--reason', 'x');
    expect(halted).toMatchObject({ code: EXIT.failed, err: expect.stringMatching(/^hotpatch pause: rollout HP-2026-02: RolloutPaused refused in state 'halted'; nothing written$/) });
    expect(await cli('resume', '--store', `sqlite:${copy}`, '--ring', 'broad', '--by', 'tenant')).toMatchObject({ code: EXIT.failed, err: 'hotpatch resume: ring broad is not paused (it is open); nothing written' });
    expect(await sha256(copy)).toBe(unchanged);
  });

  it('export --out its own database is refused; import and whatif refuse a pipe, which they would read twice', async () => {
    const copy = join(dir, 'self.db');
    await writeFile(copy, await readFile(db));
    const before = await sha256(copy);
    expect(await cli('export', '--store', `sqlite:${copy}`, '--out', copy)).toMatchObject({ code: EXIT.usage, err: expect.stringMatching(/--out .*self\.db is the store being exported/) });
    expect(await sha256(copy)).toBe(before);
    const fifo = join(dir, 'input-fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await cli('import', fifo, '--store', `sqlite:${join(dir, 'from-pipe.db')}`)).toMatchObject({ code: EXIT.usage, err: expect.stringMatching(/is not a regular file \(a pipe\?\): this command reads it twice; save it to a file first/) });
    expect(await cli('whatif', fifo, '--policy', join(demoDir, 'policy-lenient-pilot.json'))).toMatchObject({ code: EXIT.usage });
    expect(await readdir(dir)).not.toContain('from-pipe.db');
  });
});

describe('errors a user can cause: one line, a documented exit code', () => {
  it.each([
    ['a folder as the timeline', ['replay', '.'], EXIT.usage, /^hotpatch replay: \. is a folder, not a timeline file$/m],
    ['a SQLite database without sqlite:', ['status', '--store', '<db>'], EXIT.usage, /is a SQLite database, not a timeline file: give it as sqlite:.*hotpatch\.db$/m],
    ['a PostgreSQL URL that does not parse', ['verify', '--store', 'postgres://[bad'], EXIT.usage, /not a valid PostgreSQL URL/],
    ['an unknown command', ['stauts'], EXIT.usage, /^hotpatch: unknown command "stauts" \(did you mean status\?\)/],
  ])('%s', async (_what, argv, code, message) => {
    const r = await cli(...argv.map((a) => a.replace('<db>', db)));
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    // A usage error gives the command's synopsis and where to read more, not the whole help.
    if (code === EXIT.usage) expect(r.err.split('\n').length).toBeLessThanOrEqual(3);
  });

  it('a database changed behind the store, metadata nested without end, a fleet past any machine: one line each', async () => {
    const changed = join(dir, 'changed.db');
    await writeFile(changed, await readFile(db));
    const raw = new Database(changed);
    raw.prepare("UPDATE events SET data = 'not json' WHERE position = 7").run();
    raw.close();
    for (const command of ['verify', 'status', 'replay', 'export']) {
      const r = await cli(command, '--store', `sqlite:${changed}`);
      expect(r.code, command).toBe(EXIT.failed);
      expect(r.err, command).toMatch(new RegExp(`^hotpatch ${command}: position 7 device/[^ ]+@\\d+: data: not valid JSON in the store: the database was changed behind the store's back$`));
    }
    const deep = join(dir, 'deep.jsonl');
    const first = JSON.parse((await readFile(log, 'utf8')).split('\n')[0]!) as Record<string, unknown>;
    delete first.hash;
    // Written by hand: JSON.stringify itself would run out of stack on it.
    await writeFile(deep, JSON.stringify(first).slice(0, -1) + ',"meta":' + '{"m":'.repeat(5_000) + '"bottom"' + '}'.repeat(5_000) + '}\n');
    for (const command of ['verify', 'status', 'replay']) {
      const r = await cli(command, deep);
      expect(r.code, command).toBe(EXIT.failed);
      expect(r.out + r.err, command).toMatch(/line 1\b.*meta: nested deeper than 32 levels/);
    }
    expect(await cli('simulate', '--devices', '99999999999')).toMatchObject({ code: EXIT.usage, err: expect.stringMatching(/--devices: at most 10,000,000/) });
    // A million months used to run for ever.
    expect(await cli('simulate', '--months', '1000000')).toMatchObject({ code: EXIT.usage, err: expect.stringMatching(/^hotpatch simulate: --months: at most 120 \(ten years\), got 1000000$/m) });
  });

  it('an unreachable PostgreSQL is one line with the environment exit code', async () => {
    const r = await cli('status', '--store', DEAD_POSTGRES);
    expect(r.code).toBe(EXIT.environment);
    expect(r.err).toMatch(/^hotpatch status: .*(127\.0\.0\.1:1|ECONNREFUSED)/);
    oneLine(r.err);
  });

  it('with --json, a failure is JSON on standard output too', async () => {
    for (const argv of [
      ['replay', '--store', `sqlite:${db}`, '--position', '999999', '--json'],
      ['history', '--store', `sqlite:${db}`, '--device', 'nope', '--json'],
      ['status', '--store', DEAD_POSTGRES, '--json'],
      ['verify', join(dir, 'nothing-here.jsonl'), '--json'],
      ['pause', '--store', `sqlite:${db}`, '--ring', 'nope', '--by', 'tenant', '--reason', 'x', '--json'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv[0]).not.toBe(EXIT.ok);
      expect(JSON.parse(r.out), argv[0]).toMatchObject({ ok: false, error: { exit: r.code, message: expect.any(String) } });
    }
  });

  it('an error that quotes control characters stays one line', async () => {
    const policy = join(dir, 'broken-policy.json');
    // V8 quotes a short text it cannot parse as it is: here a line break and an escape sequence.
    await writeFile(policy, 'no\u001b[2J\n');
    const r = await cli('whatif', '--store', `sqlite:${db}`, '--policy', policy);
    expect(r.code).toBe(EXIT.failed);
    oneLine(r.err);
    expect(r.err).not.toMatch(/[\u0000-\u001f]/);
  });

  it('--debug adds the stack trace; without it there is none', async () => {
    const plain = await cli('export', '--store', `sqlite:${db}`, '--out', '/sys/hotpatch-export.jsonl');
    oneLine(plain.err);
    const debug = await cli('export', '--store', `sqlite:${db}`, '--out', '/sys/hotpatch-export.jsonl', '--debug');
    expect(debug.code).toBe(plain.code);
    expect(debug.err.startsWith(plain.err)).toBe(true);
    expect(debug.err).toMatch(/\n\s+at /);
  });

  it('--version and help <command>', async () => {
    const version = JSON.parse(await readFile(resolve(dirname(fileURLToPath(import.meta.url)), '../package.json'), 'utf8')).version as string;
    expect(await cli('--version')).toMatchObject({ code: 0, out: `hotpatch ${version}` });
    const help = await cli('help', 'replay');
    expect(help.code).toBe(0);
    expect(help.out).toBe((await cli('replay', '--help')).out);
    expect((await cli('help', 'nope')).code).toBe(EXIT.usage);
  });

  it('stopped by a signal while it writes, the binary leaves no temporary file and nothing half written', async () => {
    const folder = join(dir, 'signalled');
    await mkdir(folder);
    const child = spawn(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'demo', '--devices', '20000', '--out', join(folder, 'demo')]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit');
    // Once the new database is being written beside where it goes (the deepest folder that exists).
    for (let i = 0; i < 4000 && !(await readdir(folder)).some((f) => f.startsWith('.demo') || f.startsWith('.hotpatch.db')); i++) await new Promise((ok) => setTimeout(ok, 5));
    child.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(130);
    expect(stderr).toBe('hotpatch: stopped by SIGINT: files it was writing left as they were, nothing uncommitted kept\n');
    expect(await readdir(folder)).toEqual([]);
  });

  it('the binary prints one line and exits with the code for the environment, with no stack trace', async () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
    const run = promisify(execFile);
    const bin = join(root, 'packages/cli/dist/bin.js');
    const r = await run(process.execPath, [bin, 'export', '--store', `sqlite:${db}`, '--out', '/sys/hotpatch-export.jsonl']).catch((e: { code: number; stderr: string }) => e);
    expect(r).toMatchObject({ code: EXIT.environment, stderr: 'hotpatch export: cannot write /sys/hotpatch-export.jsonl: permission denied (EACCES)\n' });
  });
});

describe('answers that would mislead', () => {
  it('status and whatif refuse a timeline changed behind its hashes, as verify does', async () => {
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n');
    const at = lines.findLastIndex((l) => (JSON.parse(l) as { stream: string }).stream.startsWith('device/'));
    const event = JSON.parse(lines[at]!) as { hash?: string; data: Record<string, unknown> };
    delete event.hash;
    event.data = { ...event.data, tampered: true };
    lines[at] = JSON.stringify(event);
    const tampered = join(dir, 'tampered.jsonl');
    await writeFile(tampered, lines.join('\n') + '\n');
    const policy = join(demoDir, 'policy-lenient-pilot.json');
    for (const argv of [['status', tampered], ['whatif', tampered, '--policy', policy], ['verify', tampered]]) {
      const r = await cli(...argv);
      expect(r.code, argv[0]).toBe(EXIT.failed);
      expect(r.out + r.err, argv[0]).toContain(`line ${at + 1}: `);
    }
  });

  it('replay --position past the end says so', async () => {
    const last = (await readFile(log, 'utf8')).trimEnd().split('\n').length;
    for (const source of [[log], ['--store', `sqlite:${db}`]]) {
      const r = await cli('replay', ...source, '--position', '999999');
      expect(r.code).toBe(EXIT.failed);
      expect(r.err).toMatch(new RegExp(`--position 999999 is past the end of .*: its last event is at position ${last}$`));
      expect((await cli('replay', ...source, '--position', String(last))).code).toBe(EXIT.ok);
      // One device's state reads one stream: whether the log reaches the position is asked all the same.
      expect(await cli('replay', ...source, '--device', 'dev-00001', '--position', '999999')).toMatchObject({ code: EXIT.failed, err: expect.stringMatching(/--position 999999 is past the end of .*: it holds no event at or after that position$/) });
      expect((await cli('replay', ...source, '--device', 'dev-00001', '--position', String(last))).code).toBe(EXIT.ok);
    }
  });

  it('a timeline stripped of its hashes: import refuses it unless told, and the readers say its integrity was not checked', async () => {
    const stripped = join(dir, 'stripped.jsonl');
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n').map((l) => {
      const { hash, position, ...event } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(event);
    });
    await writeFile(stripped, lines.join('\n') + '\n');
    const target = join(dir, 'stripped.db');
    const refused = await cli('import', stripped, '--store', `sqlite:${target}`);
    expect(refused).toMatchObject({ code: EXIT.failed, err: expect.stringMatching(/carries no hashes, so whether it was changed cannot be checked.*nothing imported \(give --unhashed to import it all the same\)$/) });
    expect(await readdir(dir)).not.toContain('stripped.db');
    const imported = await cli('import', stripped, '--store', `sqlite:${target}`, '--unhashed');
    expect(imported.code).toBe(EXIT.ok);
    expect(imported.out.split('\n')[0]).toMatch(/^integrity NOT checked: /);
    expect(JSON.parse((await cli('import', stripped, '--store', `sqlite:${target}`, '--unhashed', '--json')).out)).toMatchObject({ ok: true, integrity: 'not checked', written: 0 });
    for (const argv of [['status', stripped], ['replay', stripped], ['history', stripped, '--device', 'dev-00001'], ['history', stripped, '--rollout', 'HP-2026-02']]) {
      const r = await cli(...argv);
      expect(r.code, argv[0]).toBe(EXIT.ok);
      expect(r.err, argv[0]).toBe(`note: ${stripped} carries no hashes: its integrity was NOT checked (an event changed, removed or inserted cannot be seen)`);
    }
    // A file with its hashes: checked, nothing to say.
    expect(await cli('history', log, '--device', 'dev-00001')).toMatchObject({ code: EXIT.ok, err: '' });
  });

  it('an empty log is said to be empty', async () => {
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    expect(await cli('replay', empty)).toMatchObject({ code: 0, out: `${empty} holds no events: the log is empty` });
    expect(await cli('replay', empty, '--json')).toMatchObject({ code: 0, out: '[]' });
    expect(await cli('status', empty)).toMatchObject({ code: 0, out: `the log is empty: ${empty} holds no events` });
    expect(await cli('verify', empty)).toMatchObject({ code: 0, out: `the log is empty: ${empty} holds no events, so nothing was checked` });
    expect(JSON.parse((await cli('verify', empty, '--json')).out)).toMatchObject({ ok: true, events: 0, integrity: 'not checked', empty: true });
  });

  it('replay at a time before the first event says no device had events by then', async () => {
    expect(await cli('replay', log, '--at', '2020-01-01T00:00:00Z')).toMatchObject({ code: 0, out: `no device has events in ${log} by then` });
  });
});
