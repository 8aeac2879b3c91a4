/**
 * `hotpatch verify` on the demo's export (issue 18, items 1 and 8): hashes on every event or on none, and each
 * tampering reported once, where it is, with what it implies in one line.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-verify-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const cli = (...argv: string[]) => runCaptured(argv);

interface Line {
  id: string;
  stream: string;
  version: number;
  type: string;
  time: string;
  data: Record<string, unknown>;
  position: number;
  hash?: string;
}
let events: Line[] = [];
let n = 0;
/** Verifies the demo's export as `edit` leaves it (its events, each written back as one line). */
async function verify(edit: (events: Line[]) => Array<Line | string>, ...options: string[]) {
  const file = join(dir, `t${++n}.jsonl`);
  await writeFile(file, edit(structuredClone(events)).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)) + '\n').join(''));
  return { file, ...(await cli('verify', file, ...options)) };
}
/** The index of an event, and the line numbers (1-based) of the events of its stream after it. */
const find = (stream: string, version: number) => {
  const i = events.findIndex((e) => e.stream === stream && e.version === version);
  return { i, line: i + 1, later: events.flatMap((e, k) => (k > i && e.stream === stream ? [k + 1] : [])) };
};
const notChecked = (count: number, stream: string) => `  ${count} later event${count === 1 ? ` of ${stream} was` : `s of ${stream} were`} not checked against the lifecycle: the stream's state after this event is unknown`;
const hashes = '\\(expected [0-9a-f]{12}…, found [0-9a-f]{12}…\\)';
const exactly = (text: string) => new RegExp(`^${text}$`);
const ROLLOUT = 'rollout/B-2026-01';

beforeAll(async () => {
  const out = join(dir, 'demo');
  expect((await cli('demo', '--out', out)).code).toBe(0);
  events = (await readFile(join(out, 'events.jsonl'), 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  // The demo's export, as the issue has it.
  expect(events).toHaveLength(2539);
  expect(find(ROLLOUT, 1).later.length).toBeGreaterThan(400);
});

describe('a log that carries hashes carries them on every event (item 1)', () => {
  it('the last event of device/dev-00043 without its hash and with another baseline: one problem, named by its line; import refuses the file', async () => {
    const { i, line, later } = find('device/dev-00043', 10);
    expect(later).toEqual([]);
    const r = await verify((es) => {
      delete es[i]!.hash;
      es[i]!.data.baseline = 'B-2026-03';
      return es;
    });
    expect(r).toMatchObject({
      code: 1,
      out: `line ${line}: device/dev-00043@10: hash: missing, while other events of the log carry hashes (all must, or none): it cannot be checked, and may have been changed (the last event of device/dev-00043)`,
      err: `hotpatch verify: 1 problem in ${r.file}`,
    });
    const imported = await cli('import', r.file, '--store', `sqlite:${join(dir, 'item1.db')}`);
    expect(imported.code).toBe(1);
    expect(imported.out).toContain(r.out);
    // Every reader of the file refuses it as it refuses any problem.
    expect(await cli('replay', r.file)).toMatchObject({ code: 1, err: expect.stringContaining(`line ${line} device/dev-00043@10: hash: missing`) });
  });

  it('every hash stripped: verified for the rest, and the first line says that integrity was NOT checked (--json too)', async () => {
    const strip = (es: Line[]) => es.map(({ hash: _, ...e }) => e as Line);
    const r = await verify(strip);
    expect(r).toMatchObject({
      code: 0,
      out: 'integrity NOT checked: no event carries a hash, so an event changed, removed or inserted cannot be seen\nok: 2539 events in 203 streams, every transition allowed',
    });
    expect(JSON.parse((await verify(strip, '--json')).out)).toEqual({ ok: true, events: 2539, streams: 203, hashed: false, integrity: 'not checked', problems: [] });
    expect(JSON.parse((await verify((es) => es, '--json')).out)).toMatchObject({ ok: true, hashed: true, integrity: 'checked', digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('the first event without its hash, the others with: that event, whose content its stream’s next event vouches for', async () => {
    const { later } = find(events[0]!.stream, 1);
    const r = await verify((es) => {
      delete es[0]!.hash;
      return es;
    });
    expect(r.out).toBe(
      `line 1: ${events[0]!.stream}@1: hash: missing, while other events of the log carry hashes (from line 2 on; all must, or none): it was removed from an intact event (the next event of ${events[0]!.stream} (line ${later[0]}) chains from the hash its content gives)`,
    );
  });

  it('one stream without hashes: one problem for all its events', async () => {
    const { line, later } = find(ROLLOUT, 1);
    const r = await verify((es) => es.map((e) => (e.stream === ROLLOUT ? { ...e, hash: undefined } : e)));
    expect(r.out).toBe(
      `line ${line}: ${ROLLOUT}@1: hash: missing on this event and the ${later.length} events after it in ${ROLLOUT} (to line ${later.at(-1)}), while other events of the log carry hashes (all must, or none): they cannot be checked, and may have been changed (every event of ${ROLLOUT})`,
    );
  });
});

describe('one change is one problem, where it is, and what it implies in one line (item 8)', () => {
  it('an event changed: the event, and that its stream’s later events were not checked against the lifecycle', async () => {
    const { i, line, later } = find(ROLLOUT, 100);
    const r = await verify((es) => {
      es[i]!.time = es[i]!.time.replace(':00.000Z', ':01.000Z');
      return es;
    });
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      expect.stringMatching(exactly(`line ${line}: ${ROLLOUT}@100: hash: this event was changed after it was hashed: its content does not give its hash ${hashes}, and the next event of ${ROLLOUT} \\(line ${later[0]}\\) chains from the hash as written`)),
      notChecked(later.length, ROLLOUT),
    ]);
    expect(r.err).toBe(`hotpatch verify: 1 problem in ${r.file}`);
    const json = JSON.parse((await verify((es) => ((es[i]!.time = es[i]!.time.replace(':00.000Z', ':01.000Z')), es), '--json')).out);
    expect(json).toMatchObject({ ok: false, hashed: true, integrity: 'checked', problems: [{ code: 'INVALID_EVENT', message: r.out.split('\n')[0], implies: notChecked(later.length, ROLLOUT).trim() }] });
    expect(json.problems).toHaveLength(1);
  });

  it('only its hash changed', async () => {
    const { i, line, later } = find(ROLLOUT, 100);
    const r = await verify((es) => ((es[i]!.hash = es[i]!.hash!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))), es));
    expect(r.out).toMatch(exactly(`line ${line}: ${ROLLOUT}@100: hash: only its hash was changed: its content does not give its hash ${hashes}, and the next event of ${ROLLOUT} \\(line ${later[0]}\\) chains from the hash its content gives`));
  });

  it('only the last digit of its hash changed (a file cut or a bit flipped there): the two hashes shown differ', async () => {
    const { i, line } = find(ROLLOUT, 100);
    const hash = events[i]!.hash!;
    const flipped = hash.slice(0, -1) + (hash.endsWith('a') ? 'b' : 'a');
    const r = await verify((es) => ((es[i]!.hash = flipped), es));
    const shown = /\(expected (\S+), found (\S+)\)/.exec(r.out.split('\n')[0]!);
    expect(r.out.split('\n')[0]).toMatch(new RegExp(`^line ${line}: ${ROLLOUT}@100: hash: only its hash was changed: `));
    expect(shown?.[1]).not.toBe(shown?.[2]);
    expect(shown?.slice(1)).toEqual([hash, flipped]);
  });

  it('its hash removed', async () => {
    const { i, line, later } = find(ROLLOUT, 100);
    const r = await verify((es) => (delete es[i]!.hash, es));
    expect(r.out).toBe(
      `line ${line}: ${ROLLOUT}@100: hash: missing, while other events of the log carry hashes (all must, or none): it was removed from an intact event (the next event of ${ROLLOUT} (line ${later[0]}) chains from the hash its content gives)`,
    );
  });

  it('an event removed from the middle of its stream', async () => {
    const { i, later } = find(ROLLOUT, 100);
    const r = await verify((es) => es.filter((_, k) => k !== i));
    expect(r.out.split('\n')).toEqual([`line ${later[0]! - 1}: ${ROLLOUT}@101: version: version 101 leaves a gap; expected 100: version 100 is missing (removed?)`, notChecked(later.length - 1, ROLLOUT)]);
  });

  it('an event inserted: a copy with an id of its own after it', async () => {
    const { i, line } = find(ROLLOUT, 100);
    const r = await verify((es) => es.flatMap((e, k) => (k === i ? [e, { ...e, id: `${e.id.slice(0, -4)}ffff` }] : [e])));
    expect(r.out).toBe(`line ${line + 1}: ${ROLLOUT}@100: version: version 100 repeats; the stream is at 100 (an event inserted, duplicated or moved?)`);
  });

  it('a line written twice', async () => {
    const { i, line } = find(ROLLOUT, 100);
    const r = await verify((es) => es.flatMap((e, k) => (k === i ? [e, e] : [e])));
    expect(r.out).toBe(`line ${line + 1}: ${ROLLOUT}@100: id: id ${events[i]!.id} repeats the event at line ${line}`);
  });

  it('two events of a stream swapped', async () => {
    const { i, line, later } = find('device/dev-00169', 4);
    const j = later[0]! - 1;
    const r = await verify((es) => ([es[i], es[j]] = [es[j]!, es[i]!]) && es);
    expect(r.out.split('\n')).toEqual([`line ${line}: device/dev-00169@5: version: version 5 comes before version 4 (line ${j + 1}): events out of order (moved or swapped)`, notChecked(later.length - 1, 'device/dev-00169')]);
  });

  it('two lines of streams without other events between them swapped', async () => {
    // Two events whose streams have no other event between them: only their positions are out of order.
    const quiet = (a: number, b: number) => !events.slice(a + 1, b).some((e) => e.stream === events[a]!.stream || e.stream === events[b]!.stream);
    const a = events.findIndex((e, k) => k > 1000 && e.stream.startsWith('device/') && quiet(k, k + 40) && events[k + 40]!.stream !== e.stream);
    const r = await verify((es) => ([es[a], es[a + 40]] = [es[a + 40]!, es[a]!]) && es);
    expect(r.out).toBe(`line ${a + 1}: ${events[a + 40]!.stream}@${events[a + 40]!.version}: position: position ${a + 41} is out of order: this line and line ${a + 41} (position ${a + 1}) are swapped`);
  });

  it('a version changed', async () => {
    const { i, line } = find(ROLLOUT, 100);
    const r = await verify((es) => ((es[i]!.version = 102), es));
    expect(r.out).toBe(`line ${line}: ${ROLLOUT}@102: version: changed from 100 to 102: the hash is that of version 100, the stream's next`);
  });

  it('a line cut short', async () => {
    const { i, line, later } = find(ROLLOUT, 100);
    const r = await verify((es) => es.map((e, k) => (k === i ? JSON.stringify(e).slice(0, 150) : e)));
    expect(r.out.split('\n')).toEqual([expect.stringMatching(exactly(`line ${line}: not valid JSON \\(.*\\)`)), notChecked(later.length, ROLLOUT)]);
  });
});
