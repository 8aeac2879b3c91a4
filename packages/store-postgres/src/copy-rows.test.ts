/** Given/when/then specifications of a batch's rows in COPY's text format, and COPY on the server. */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { dropAll, newSchema, url } from '../test/helpers.js';
import { pendingRows } from './batch-rows.js';
import { copyText, CopyIn } from './copy-rows.js';

const given = (...events: Array<{ stream?: string; id?: string; type?: string; data?: string; meta?: string }>) => {
  const rows = pendingRows();
  events.forEach((e, i) => {
    rows.positions.push(41 + i);
    rows.streams.push(e.stream ?? 'device/pc-42');
    rows.versions.push(7 + i);
    rows.ids.push(e.id ?? `id-${i}`);
    rows.types.push(e.type ?? 'EligibilityAssessed');
    rows.times.push('2026-01-05T08:00:00.000Z');
    rows.data.push(e.data ?? '{"eligible":true,"reasons":[]}');
    rows.meta.push(e.meta ?? 'null');
    rows.hashes.push('ab'.repeat(32));
  });
  return { whenCopied: () => copyText(rows) };
};

describe('copyText', () => {
  it('writes a line per row, values in column order separated by tabs, no meta as NULL', () => {
    expect(given({}, { meta: '{"by":"agent-7"}' }).whenCopied()).toBe(
      `41\tdevice/pc-42\t7\tid-0\tEligibilityAssessed\t2026-01-05T08:00:00.000Z\t{"eligible":true,"reasons":[]}\t\\N\t${'ab'.repeat(32)}\n` +
        `42\tdevice/pc-42\t8\tid-1\tEligibilityAssessed\t2026-01-05T08:00:00.000Z\t{"eligible":true,"reasons":[]}\t{"by":"agent-7"}\t${'ab'.repeat(32)}\n`,
    );
  });

  it('escapes backslashes in JSON, and backslashes, tabs, newlines and carriage returns in text', () => {
    const line = given({ stream: 'device/a\tb', id: 'x\\y', type: 'T\nU\rV', data: '{"path":"C:\\\\x","q":"\\"","nul":"\\u0000"}' }).whenCopied();
    expect(line.split('\t').slice(1, 5)).toEqual(['device/a\\tb', '7', 'x\\\\y', 'T\\nU\\rV']);
    expect(line.split('\t')[6]).toBe('{"path":"C:\\\\\\\\x","q":"\\\\"","nul":"\\\\u0000"}');
    expect(line.split('\n')).toHaveLength(2);
  });

  it('writes nothing for no rows', () => {
    expect(given().whenCopied()).toBe('');
  });
});

describe.skipIf(!url)('CopyIn (on the server)', () => {
  afterAll(dropAll);

  /** A client on a fresh schema with a table like the events', unique ids. */
  const client = async () => {
    const schema = newSchema();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (n integer, id text UNIQUE, data json)`);
    return { c, table: `${schema}.t` };
  };
  const copy = (c: pg.Client, table: string, text: string) => c.query(new CopyIn(`COPY ${table} (n, id, data) FROM STDIN`, Buffer.from(text))).done;

  it('writes the rows sent with the statement, and the connection goes on', async () => {
    const { c, table } = await client();
    await copy(c, table, '1\ta\t{"x":"\\\\u0000"}\n2\tb\t{}\n');
    expect((await c.query(`SELECT n, id, data::text FROM ${table} ORDER BY n`)).rows).toEqual([
      { n: 1, id: 'a', data: '{"x":"\\u0000"}' },
      { n: 2, id: 'b', data: '{}' },
    ]);
    await c.end();
  });

  it('a row the server refuses fails it, nothing written, and the connection stays in step', async () => {
    const { c, table } = await client();
    await expect(copy(c, table, '1\ta\t{}\n2\ta\t{}\n')).rejects.toMatchObject({ code: '23505' });
    await expect(copy(c, table, '1\ta\tnot json\n')).rejects.toMatchObject({ code: '22P02' });
    expect((await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 0 }]);
    await c.end();
  });

  it('a statement refused before any row is read (an aborted transaction) drops the rows sent with it', async () => {
    const { c, table } = await client();
    await c.query('BEGIN');
    await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    await expect(copy(c, table, '1\ta\t{}\n')).rejects.toMatchObject({ code: '25P02' });
    await c.query('ROLLBACK');
    await copy(c, table, '3\tc\t{}\n');
    expect((await c.query(`SELECT n FROM ${table}`)).rows).toEqual([{ n: 3 }]);
    await c.end();
  });
});
