/** `hotpatch verify` over a tampered database and a tampered export: each kind of tampering caught, where it is. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { demoFixture } from './testing/demo-fixture.js';

const demo = await demoFixture('hotpatch-cli-tamper-');
const { dir, db, timeline, cli } = demo;
beforeAll(demo.setUp);
afterAll(demo.cleanUp);

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
  /** The first device event at or after position 100 that has a later event in its stream. */
  const middle = (sql: ReturnType<typeof openSqliteEventStore>['db']) =>
    sql
      .prepare(
        `SELECT e.position, e.stream, e.version FROM events e JOIN streams s ON s.stream = e.stream
         WHERE e.position >= 100 AND e.stream LIKE 'device/%' AND e.version < s.version ORDER BY e.position LIMIT 1`,
      )
      .get() as { position: number; stream: string; version: number };
  /** In the demo database: the position of the event after `where` in its stream, its stream's last version, the log's last position. */
  const around = (where: { stream: string; version: number }) => {
    const store = openSqliteEventStore({ path: db });
    try {
      const q = <T>(sql: string, ...args: unknown[]) => store.db.prepare(sql).get(...args) as T;
      return {
        next: q<{ position: number }>('SELECT position FROM events WHERE stream = ? AND version = ?', where.stream, where.version + 1).position,
        last: q<{ version: number }>('SELECT version FROM streams WHERE stream = ?', where.stream).version,
        end: q<{ position: number }>('SELECT MAX(position) AS position FROM events').position,
      };
    } finally {
      void store.close();
    }
  };

  it('an event changed', async () => {
    let where = { position: 0, stream: '', version: 0 };
    const r = await tampered('changed', (sql) => {
      where = middle(sql);
      sql.prepare(`UPDATE events SET time = '2026-01-01T00:00:00.000Z' WHERE position = ?`).run(where.position);
    });
    expect(r.code).toBe(1);
    // One problem, at the event changed, and what it implies in one line: not one problem per later event.
    const { next, last } = around(where);
    expect(r.out).toMatch(
      new RegExp(
        `^position ${where.position}: ${where.stream}@${where.version}: hash: this event was changed after it was hashed: its content does not give its hash \\(expected [0-9a-f]{12}…, found [0-9a-f]{12}…\\), and the next event of ${where.stream} \\(position ${next}\\) chains from the hash as written\n` +
          `  ${last - where.version} later events? of ${where.stream} (was|were) not checked against the lifecycle: the stream's state after this event is unknown$`,
      ),
    );
    expect(r.err).toMatch(/1 problem in sqlite:/);
  });

  it('an event removed', async () => {
    let where = { position: 0, stream: '', version: 0 };
    const r = await tampered('removed', (sql) => {
      where = middle(sql);
      sql.prepare('DELETE FROM events WHERE position = ?').run(where.position);
    });
    expect(r.code).toBe(1);
    const { next, last } = around(where);
    expect(r.out).toBe(
      `position ${next}: ${where.stream}@${where.version + 1}: version: version ${where.version + 1} leaves a gap; expected ${where.version}: version ${where.version} is missing (removed?)` +
        (last > where.version + 1 ? `\n  ${last - where.version - 1} later event${last - where.version - 1 === 1 ? ' of ' + where.stream + ' was' : 's of ' + where.stream + ' were'} not checked against the lifecycle: the stream's state after this event is unknown` : ''),
    );
  });

  it('the last events of a stream removed (no hole left in the chain)', async () => {
    let stream = '';
    const r = await tampered('truncated', (sql) => {
      stream = (sql.prepare(`SELECT stream FROM streams WHERE stream LIKE 'device/%' ORDER BY stream LIMIT 1`).get() as { stream: string }).stream;
      sql.prepare('DELETE FROM events WHERE stream = ? AND version = (SELECT MAX(version) FROM events WHERE stream = ?)').run(stream, stream);
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`${stream}@\\d+: hash: the store's head of ${stream} does not match its last event: events were removed from its end`));
  });

  it('the last event of a stream changed, or only its hash: the store’s head tells which, as a next event would', async () => {
    let end = { position: 0, stream: '', version: 0 };
    const lastOf = (sql: ReturnType<typeof openSqliteEventStore>['db']) =>
      sql.prepare(`SELECT e.position, e.stream, e.version FROM events e JOIN streams s ON s.stream = e.stream AND s.version = e.version WHERE e.stream LIKE 'device/%' ORDER BY e.position LIMIT 1`).get() as typeof end;
    const changed = await tampered('last-changed', (sql) => {
      end = lastOf(sql);
      sql.prepare(`UPDATE events SET time = '2026-01-01T00:00:00.000Z' WHERE position = ?`).run(end.position);
    });
    expect(changed.out).toMatch(
      new RegExp(`^position ${end.position}: ${end.stream}@${end.version}: hash: this event was changed after it was hashed: its content does not give its hash \\(expected [0-9a-f]{12}…, found [0-9a-f]{12}…\\), and the store's head of ${end.stream} is the hash as written$`),
    );
    const rehashed = await tampered('last-rehashed', (sql) => {
      end = lastOf(sql);
      sql.prepare(`UPDATE events SET hash = '${'0'.repeat(64)}' WHERE position = ?`).run(end.position);
    });
    expect(rehashed.out).toMatch(
      new RegExp(`^position ${end.position}: ${end.stream}@${end.version}: hash: only its hash was changed: its content does not give its hash \\(expected [0-9a-f]{12}…, found 0{12}…\\), and the store's head of ${end.stream} is the hash its content gives$`),
    );
  });

  it('an event inserted, the versions after it renumbered to hide the gap', async () => {
    let where = { position: 0, stream: '', version: 0 };
    const r = await tampered('inserted', (sql) => {
      where = middle(sql);
      const { stream, version } = where;
      sql.prepare('UPDATE events SET version = -version WHERE stream = ? AND version >= ?').run(stream, version);
      sql.prepare('UPDATE events SET version = -version + 1 WHERE stream = ? AND version < 0').run(stream);
      sql.prepare(
        `INSERT INTO events (stream, version, id, type, time, data, meta, hash)
         SELECT stream, ?, '0193f2a0-0000-7000-8000-0000deadbeef', 'EligibilityAssessed', time, '{"eligible":true,"reasons":[]}', NULL, hash FROM events WHERE stream = ? AND version = ?`,
      ).run(version, stream, version + 1);
    });
    expect(r.code).toBe(1);
    // The renumbering once (its hashes give the versions they had), and the inserted event, which went in last.
    const { last, end } = around(where);
    expect(r.out).toBe(
      `position ${where.position}: ${where.stream}@${where.version + 1}: version: changed from ${where.version} to ${where.version + 1}: the hash is that of version ${where.version}, the stream's next\n` +
        `  ${last - where.version} later event${last - where.version === 1 ? '' : 's'} of ${where.stream} carry versions changed the same way (+1)\n` +
        `position ${end + 1}: ${where.stream}@${where.version}: version: version ${where.version} repeats; the stream is at ${last} (an event inserted, duplicated or moved?)`,
    );
  });

  it('two events reordered', async () => {
    let where = { position: 0, stream: '', version: 0 };
    const r = await tampered('reordered', (sql) => {
      where = middle(sql);
      const { stream, version } = where;
      sql.prepare('UPDATE events SET version = -1 WHERE stream = ? AND version = ?').run(stream, version);
      sql.prepare('UPDATE events SET version = ? WHERE stream = ? AND version = ?').run(version, stream, version + 1);
      sql.prepare('UPDATE events SET version = ? WHERE stream = ? AND version = -1').run(version + 1, stream);
    });
    expect(r.code).toBe(1);
    const { next } = around(where);
    expect(r.out).toBe(
      `position ${where.position}: ${where.stream}@${where.version + 1}: version: versions ${where.version} and ${where.version + 1} swapped: this event's hash is that of version ${where.version}, and the one at position ${next} (written ${where.version}) has the hash of version ${where.version + 1}`,
    );
  });
});

describe('verify catches tampering in an exported file', () => {
  let lines0: string[] = [];
  beforeAll(async () => {
    lines0 = (await readFile(timeline, 'utf8')).trimEnd().split('\n');
  });
  async function tampered(name: string, edit: (lines: string[]) => void) {
    const lines = [...lines0];
    edit(lines);
    const file = join(dir, `${name}.jsonl`);
    await writeFile(file, lines.join('\n') + '\n');
    return cli('verify', file);
  }
  const streamOf = (line: string) => (JSON.parse(line) as { stream: string }).stream;
  /** The line numbers (1-based) of the events of line `from`'s stream, from that line on. */
  const sameStream = (lines: string[], from: number) => lines.map((l, i) => [l, i + 1] as const).filter(([l, n]) => n >= from && streamOf(l) === streamOf(lines[from - 1]!)).map(([, n]) => n);
  /** The first line from 100 on whose stream has an event after it. */
  const middleLine = (lines: string[]) => {
    for (let n = 100; n <= lines.length; n++) if (sameStream(lines, n).length >= 2) return n;
    throw new Error('no such line');
  };

  it('an event changed', async () => {
    let at = 0;
    const r = await tampered('f-changed', (lines) => {
      at = middleLine(lines);
      lines[at - 1] = lines[at - 1]!.replace(/"time":"[^"]+"/, '"time":"2026-01-01T00:00:00.000Z"');
    });
    const later = sameStream(lines0, at);
    const { stream, version } = JSON.parse(lines0[at - 1]!) as { stream: string; version: number };
    expect(r.out).toMatch(
      new RegExp(
        `^line ${at}: ${stream}@${version}: hash: this event was changed after it was hashed: its content does not give its hash \\(expected [0-9a-f]{12}…, found [0-9a-f]{12}…\\), and the next event of ${stream} \\(line ${later[1]}\\) chains from the hash as written\n` +
          `  ${later.length - 1} later events? of ${stream} (was|were) not checked against the lifecycle: the stream's state after this event is unknown$`,
      ),
    );
  });

  it('an event removed', async () => {
    let next = 0;
    let later = 0;
    const r = await tampered('f-removed', (lines) => {
      const at = middleLine(lines);
      [, next] = sameStream(lines, at) as [number, number];
      later = sameStream(lines, at).length - 2;
      lines.splice(at - 1, 1);
    });
    const { stream, version } = JSON.parse(lines0[next - 1]!) as { stream: string; version: number };
    expect(r.out).toBe(
      `line ${next - 1}: ${stream}@${version}: version: version ${version} leaves a gap; expected ${version - 1}: version ${version - 1} is missing (removed?)` +
        (later > 0 ? `\n  ${later} later event${later === 1 ? ` of ${stream} was` : `s of ${stream} were`} not checked against the lifecycle: the stream's state after this event is unknown` : ''),
    );
  });

  it('an event inserted', async () => {
    let at = 0;
    const r = await tampered('f-inserted', (lines) => {
      at = middleLine(lines);
      const copy = JSON.parse(lines[at - 1]!);
      copy.id = '0193f2a0-0000-7000-8000-0000deadbeef';
      lines.splice(at, 0, JSON.stringify(copy));
    });
    // Its repeated position is part of it, not a second problem.
    const { stream, version } = JSON.parse(lines0[at - 1]!) as { stream: string; version: number };
    expect(r.out).toBe(`line ${at + 1}: ${stream}@${version}: version: version ${version} repeats; the stream is at ${version} (an event inserted, duplicated or moved?)`);
  });

  it('two events reordered', async () => {
    let first = 0;
    let second = 0;
    const r = await tampered('f-reordered', (lines) => {
      [first, second] = sameStream(lines, middleLine(lines)) as [number, number];
      [lines[first - 1], lines[second - 1]] = [lines[second - 1]!, lines[first - 1]!];
    });
    // One problem: the two events out of order (their positions out of order with them).
    const { stream, version } = JSON.parse(lines0[first - 1]!) as { stream: string; version: number };
    const later = sameStream(lines0, first).length - 2;
    expect(r.out).toBe(
      `line ${first}: ${stream}@${version + 1}: version: version ${version + 1} comes before version ${version} (line ${second}): events out of order (moved or swapped)` +
        (later > 0 ? `\n  ${later} later event${later === 1 ? ` of ${stream} was` : `s of ${stream} were`} not checked against the lifecycle: the stream's state after this event is unknown` : ''),
    );
  });
});
