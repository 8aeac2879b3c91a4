/** The CLI over real stores: export/import round trips, and verify catching each kind of tampering. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { main } from './main.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-cli-stores-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const demoDir = join(dir, 'demo');
const db = join(demoDir, 'hotpatch.db');
const timeline = join(demoDir, 'events.jsonl');

beforeAll(async () => {
  expect((await cli('demo', '--devices', '25', '--out', demoDir)).code).toBe(0);
});

describe('stores on the command line', () => {
  it('the demo writes a SQLite database that verifies and replays like its exported timeline', async () => {
    const verify = await cli('verify', '--store', `sqlite:${db}`);
    expect(verify.code).toBe(0);
    expect(verify.out).toMatch(/every hash chained\nlog digest: [0-9a-f]{64}$/);
    expect((await cli('verify', timeline)).out.split('\n')[1]).toBe(verify.out.split('\n')[1]);
    expect((await cli('replay', '--store', `sqlite:${db}`, '--json')).out).toBe((await cli('replay', timeline, '--json')).out);
  });

  it('export → import → export is byte-identical, and a second import changes nothing', async () => {
    const first = join(dir, 'first.jsonl');
    expect((await cli('export', '--store', `sqlite:${db}`, '--out', first)).code).toBe(0);
    expect(await readFile(first, 'utf8')).toBe(await readFile(timeline, 'utf8'));
    const copy = join(dir, 'copy.db');
    const imported = await cli('import', first, '--store', `sqlite:${copy}`, '--json');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.out)).toMatchObject({ written: JSON.parse(imported.out).events, alreadyThere: 0 });
    const second = join(dir, 'second.jsonl');
    await cli('export', '--store', `sqlite:${copy}`, '--out', second);
    expect(await readFile(second, 'utf8')).toBe(await readFile(first, 'utf8'));
    const again = JSON.parse((await cli('import', first, '--store', `sqlite:${copy}`, '--json')).out);
    expect(again).toMatchObject({ written: 0, alreadyThere: again.events });
    await cli('export', '--store', `sqlite:${copy}`, '--out', second);
    expect(await readFile(second, 'utf8')).toBe(await readFile(first, 'utf8'));
  });

  it('import checks the whole file first and writes nothing when any of it is wrong', async () => {
    const lines = (await readFile(timeline, 'utf8')).trimEnd().split('\n');
    lines[lines.length - 1] = lines[lines.length - 1]!.replace('"type":"', '"type":"X');
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, lines.join('\n') + '\n');
    const target = join(dir, 'untouched.db');
    const r = await cli('import', bad, '--store', `sqlite:${target}`);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^line ${lines.length}: `));
    const store = openSqliteEventStore({ path: target });
    expect(await store.readAll()).toEqual([]);
    await store.close();
  });

  it('export needs a store and refuses a path that does not exist', async () => {
    expect((await cli('export')).code).toBe(2);
    expect((await cli('export', '--store', `sqlite:${join(dir, 'nope.db')}`)).err).toMatch(/no such database/);
    expect((await cli('replay', '--store', 'redis://x')).err).toMatch(/unknown kind of store/);
  });
});

describe('verify catches tampering in a database', () => {
  /** A fresh copy of the demo database, tampered with by `edit`, then verified. */
  async function tampered(name: string, edit: (sql: ReturnType<typeof openSqliteEventStore>['db']) => void) {
    const path = join(dir, `${name}.db`);
    expect((await cli('import', timeline, '--store', `sqlite:${path}`)).code).toBe(0);
    const store = openSqliteEventStore({ path });
    edit(store.db);
    await store.close();
    return cli('verify', '--store', `sqlite:${path}`);
  }
  const eventAt = (sql: ReturnType<typeof openSqliteEventStore>['db'], position: number) =>
    sql.prepare('SELECT stream, version FROM events WHERE position = ?').get(position) as { stream: string; version: number };

  it('an event changed', async () => {
    let where = { stream: '', version: 0 };
    const r = await tampered('changed', (sql) => {
      where = eventAt(sql, 300);
      sql.prepare(`UPDATE events SET time = '2026-01-01T00:00:00.000Z' WHERE position = 300`).run();
    });
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toBe(`position 300: ${where.stream}@${where.version}: hash: ${r.out.split('hash: ')[1]!.split('\n')[0]}`);
    expect(r.out).toMatch(/^position 300: .*hash does not match: this event was changed/);
  });

  it('an event removed', async () => {
    let where = { stream: '', version: 0 };
    const r = await tampered('removed', (sql) => {
      where = eventAt(sql, 300);
      sql.prepare('DELETE FROM events WHERE position = 300').run();
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`${where.stream}@${where.version + 1}: version: version ${where.version + 1} leaves a gap; expected ${where.version} \\(an event removed`));
  });

  it('an event inserted, the versions after it renumbered to hide the gap', async () => {
    let where = { stream: '', version: 0 };
    const r = await tampered('inserted', (sql) => {
      where = eventAt(sql, 300);
      const { stream, version } = where;
      sql.prepare('UPDATE events SET version = -version WHERE stream = ? AND version >= ?').run(stream, version);
      sql.prepare('UPDATE events SET version = -version + 1 WHERE stream = ? AND version < 0').run(stream);
      sql.prepare(
        `INSERT INTO events (stream, version, id, type, time, data, meta, hash)
         SELECT stream, ?, '0193f2a0-0000-7000-8000-0000deadbeef', 'EligibilityAssessed', time, '{"eligible":true,"reasons":[]}', NULL, hash FROM events WHERE stream = ? AND version = ?`,
      ).run(version, stream, version + 1);
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`${where.stream}@${where.version}: hash: hash does not match`));
  });

  it('two events reordered', async () => {
    let where = { stream: '', version: 0 };
    const r = await tampered('reordered', (sql) => {
      where = eventAt(sql, 300);
      const { stream, version } = where;
      sql.prepare('UPDATE events SET version = -1 WHERE stream = ? AND version = ?').run(stream, version);
      sql.prepare('UPDATE events SET version = ? WHERE stream = ? AND version = ?').run(version, stream, version + 1);
      sql.prepare('UPDATE events SET version = ? WHERE stream = ? AND version = -1').run(version + 1, stream);
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`${where.stream}@${where.version}: `));
  });
});

describe('verify catches tampering in an exported file', () => {
  async function tampered(name: string, edit: (lines: string[]) => void) {
    const lines = (await readFile(timeline, 'utf8')).trimEnd().split('\n');
    edit(lines);
    const file = join(dir, `${name}.jsonl`);
    await writeFile(file, lines.join('\n') + '\n');
    return cli('verify', file);
  }
  const streamOf = (line: string) => (JSON.parse(line) as { stream: string }).stream;
  /** The line numbers (1-based) of the next two events of line 300's stream. */
  const sameStream = (lines: string[], from: number) => lines.map((l, i) => [l, i + 1] as const).filter(([l, n]) => n >= from && streamOf(l) === streamOf(lines[from - 1]!)).map(([, n]) => n);

  it('an event changed', async () => {
    const r = await tampered('f-changed', (lines) => {
      lines[299] = lines[299]!.replace(/"time":"[^"]+"/, '"time":"2026-01-01T00:00:00.000Z"');
    });
    expect(r.out).toMatch(/^line 300: .*hash does not match/);
  });

  it('an event removed', async () => {
    let next = 0;
    const r = await tampered('f-removed', (lines) => {
      next = sameStream(lines, 300)[1]!;
      lines.splice(299, 1);
    });
    expect(r.out).toMatch(new RegExp(`^line ${next - 1}: .*leaves a gap`));
  });

  it('an event inserted', async () => {
    const r = await tampered('f-inserted', (lines) => {
      const copy = JSON.parse(lines[299]!);
      copy.id = '0193f2a0-0000-7000-8000-0000deadbeef';
      lines.splice(300, 0, JSON.stringify(copy));
    });
    expect(r.out).toMatch(/^line 301: .*position \d+ does not follow \d+/);
    expect(r.out).toMatch(/\nline 301: .*version \d+ repeats/);
  });

  it('two events reordered', async () => {
    let first = 0;
    const r = await tampered('f-reordered', (lines) => {
      const [a, b] = sameStream(lines, 300);
      first = a!;
      [lines[a! - 1], lines[b! - 1]] = [lines[b! - 1]!, lines[a! - 1]!];
    });
    expect(r.out).toMatch(new RegExp(`^line ${first}: .*version \\d+ leaves a gap`));
  });
});
