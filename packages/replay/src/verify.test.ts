/**
 * Verify's two promises: a log that carries hashes carries them on every event (one without is a problem named by
 * its line; a log with none is verified for the rest, and says so), and one change to a log is one problem, where
 * the change is, with what it implies — not a problem per later event of its stream.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HotpatchError, HotpatchEvent, InvalidEventError, LocatedError } from '@hotpatch/core';
import { formatEvent } from '@hotpatch/store';
import { exportedLog as log, scratchFiles } from '../test/logs.js';
import { foldInShards } from './fold-shards.js';
import { foldTimeline, TimelineFold } from './fold.js';
import { fleetAt } from './queries.js';
import { verifyFile, verifyTimeline, type VerifyReport } from './verify.js';

const { dir, write } = await scratchFiles('hotpatch-verify-');
const verifyLines = async (lines: readonly string[]): Promise<VerifyReport> => verifyFile(await write(lines));

const unhashed = ({ hash: _, ...e }: HotpatchEvent) => e as HotpatchEvent;

/** The words of a problem, without its place and field. */
const wordsOf = (p: HotpatchError) => (p as InvalidEventError).problem ?? (p as LocatedError).what;
/** Each problem as "line: what" (its place and words), with what it implies after " => ". */
const said = (r: { problems: readonly HotpatchError[]; implications: ReadonlyMap<HotpatchError, string> }) =>
  r.problems.map((p) => {
    const { at } = p as LocatedError;
    const implies = r.implications.get(p);
    return `${at.line ?? at.position}: ${wordsOf(p)}${implies ? ` => ${implies}` : ''}`;
  });

const events = log(600, 12, 5);
const lines = events.map(formatEvent);
/** Indices of the events of `i`'s stream after it. */
const laterOf = (i: number) => events.flatMap((e, k) => (k > i && e.stream === events[i]!.stream ? [k] : []));
/** An event in the middle of a stream, with at least `later` events after it in its stream. */
const middle = (from: number, later = 2) => {
  for (let i = from; i < events.length; i++) if (laterOf(i).length >= later && events[i]!.version > 1) return i;
  throw new Error('none');
};

describe('a log that carries hashes carries them on every event', () => {
  it('passes a log with hashes on every event, and one with none, saying which', async () => {
    expect(await verifyLines(lines)).toMatchObject({ ok: true, hashed: true, problems: [] });
    expect(await verifyLines(events.map((e) => formatEvent(unhashed(e))))).toMatchObject({ ok: true, hashed: false, problems: [] });
    expect(verifyTimeline({ events: events.map(unhashed) })).toMatchObject({ ok: true, hashed: false });
  });

  it('names the last event of a stream whose hash was removed and content changed (issue 18, item 1)', async () => {
    const i = events.findLastIndex((e) => e.stream === events[0]!.stream);
    const changed = [...lines];
    changed[i] = formatEvent({ ...unhashed(events[i]!), time: '2027-01-01T00:00:00.000Z' });
    const report = await verifyLines(changed);
    expect(report.hashed).toBe(true);
    expect(said(report)).toEqual([`${i + 1}: missing, while other events of the log carry hashes (all must, or none): it cannot be checked, and may have been changed (the last event of ${events[i]!.stream})`]);
    // Every reader of the timeline refuses it, as any other problem.
    expect(() => fleetAt({ events: changed.map((l) => JSON.parse(l) as HotpatchEvent) })).toThrow(/hash: missing, while other events of the log carry hashes/);
  });

  it('the first event of the file without its hash, the others with theirs: that event, whose content the next one of its stream vouches for', async () => {
    const next = laterOf(0)[0]!;
    const report = await verifyLines([formatEvent(unhashed(events[0]!)), ...lines.slice(1)]);
    expect(said(report)).toEqual([
      `1: missing, while other events of the log carry hashes (from line 2 on; all must, or none): it was removed from an intact event (the next event of ${events[0]!.stream} (line ${next + 1}) chains from the hash its content gives)`,
    ]);
    // Changed as well: the next event of its stream does not chain from its content.
    const changed = await verifyLines([formatEvent({ ...unhashed(events[0]!), time: '2027-01-01T00:00:00.000Z' }), ...lines.slice(1)]);
    expect(said(changed)[0]).toMatch(new RegExp(`^1: missing, .*, and the next event of ${events[0]!.stream} \\(line ${next + 1}\\) chains from another hash than its content gives: this event was changed => ${laterOf(0).length} later events of ${events[0]!.stream} were not checked`));
  });

  it('one stream without hashes: one problem for all its events', async () => {
    const stream = events[3]!.stream;
    const own = events.flatMap((e, k) => (e.stream === stream ? [k] : []));
    const report = await verifyLines(events.map((e) => formatEvent(e.stream === stream ? unhashed(e) : e)));
    expect(said(report)).toEqual([
      `${own[0]! + 1}: missing on this event and the ${own.length - 1} events after it in ${stream} (to line ${own.at(-1)! + 1}), while other events of the log carry hashes (all must, or none): they cannot be checked, and may have been changed (every event of ${stream})`,
    ]);
  });

  it('every event hashed but one in the middle of its stream: that one, intact', async () => {
    const i = middle(300);
    const report = await verifyLines(lines.map((l, k) => (k === i ? formatEvent(unhashed(events[k]!)) : l)));
    expect(said(report)).toEqual([
      `${i + 1}: missing, while other events of the log carry hashes (all must, or none): it was removed from an intact event (the next event of ${events[i]!.stream} (line ${laterOf(i)[0]! + 1}) chains from the hash its content gives)`,
    ]);
  });

  it('only the last event hashed: one problem for all the events before it', async () => {
    const report = await verifyLines(events.map((e, k) => formatEvent(k === events.length - 1 ? e : unhashed(e))));
    expect(said(report)).toEqual([
      `1: missing on this event and the ${events.length - 2} other events before line ${events.length} (in 12 streams; not listed one by one), while other events of the log carry hashes (from line ${events.length} on; all must, or none): none of them can be checked`,
    ]);
  });

  it('a store hashes every event: there, one without a hash is a problem even when none has one', () => {
    const fold = new TimelineFold({ collectProblems: true, hashes: 'every' });
    for (const e of events.slice(0, 3).map(unhashed)) fold.add(e);
    const result = fold.result();
    expect(result.hashed).toBe(true);
    expect(result.problems.map(wordsOf)).toEqual([0, 1, 2].map(() => expect.stringMatching(/^missing, a store hashes every event: it cannot be checked/)));
    expect(foldTimeline({ events: events.slice(0, 3).map(unhashed) }, { collectProblems: true }).problems).toEqual([]);
  });

  it('folding in shards declines a log whose streams differ in having hashes, and the one-thread fold reports it', async () => {
    const big = log(6_000, 120, 9);
    const stream = big[1]!.stream;
    const path = join(dir, 'mixed.jsonl');
    await writeFile(path, big.map((e) => formatEvent(e.stream === stream ? unhashed(e) : e) + '\n').join(''));
    expect(await foldInShards(path, undefined, 2)).toBeUndefined();
    const report = await verifyFile(path);
    expect(report.problems).toHaveLength(1);
    expect(said(report)[0]).toMatch(new RegExp(`^2: missing on this event and the \\d+ events after it in ${stream} `));
  });
});

describe('one change to a log is one problem, where it is', () => {
  const p = (i: number) => events[i]!;
  const unchecked = (n: number, stream: string) => (n === 0 ? '' : ` => ${n} later event${n === 1 ? ` of ${stream} was` : `s of ${stream} were`} not checked against the lifecycle: the stream's state after this event is unknown`);
  const hashes = '\\(expected [0-9a-f]{12}…, found [0-9a-f]{12}…\\)';
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  /** Each kind of change at event `i`: the file's lines, and what verify must say (a pattern for each problem). */
  const changes: Record<string, (i: number) => { lines: string[]; says: string[] } | undefined> = {
    'an event changed, its hash left': (i) => {
      const later = laterOf(i);
      const e = p(i);
      return {
        lines: lines.map((l, k) => (k === i ? formatEvent({ ...e, time: new Date(Date.parse(e.time) + 1000).toISOString() }) : l)),
        says:
          later.length > 0
            ? [`^${i + 1}: this event was changed after it was hashed: its content does not give its hash ${hashes}, and the next event of ${e.stream} \\(line ${later[0]! + 1}\\) chains from the hash as written${escape(unchecked(later.length, e.stream))}$`]
            : [`^${i + 1}: its content does not give its hash ${hashes}: this event was changed, or its hash was \\(the last event of ${e.stream}: nothing after it tells which\\)$`],
      };
    },
    'only a hash changed': (i) => {
      const later = laterOf(i);
      if (later.length === 0) return undefined;
      const e = p(i);
      return {
        lines: lines.map((l, k) => (k === i ? formatEvent({ ...e, hash: e.hash!.replace(/^./, (c) => (c === '0' ? '1' : '0')) }) : l)),
        says: [`^${i + 1}: only its hash was changed: its content does not give its hash ${hashes}, and the next event of ${e.stream} \\(line ${later[0]! + 1}\\) chains from the hash its content gives$`],
      };
    },
    'a hash removed': (i) => {
      const later = laterOf(i);
      if (later.length === 0) return undefined;
      return {
        lines: lines.map((l, k) => (k === i ? formatEvent(unhashed(p(i))) : l)),
        says: [`^${i + 1}: missing, while other events of the log carry hashes \\((from line 2 on; )?all must, or none\\): it was removed from an intact event`],
      };
    },
    'an event removed from the middle of its stream': (i) => {
      const later = laterOf(i);
      if (later.length === 0) return undefined;
      const e = p(i);
      return {
        lines: lines.filter((_, k) => k !== i),
        says: [`^${later[0]}: version ${e.version + 1} leaves a gap; expected ${e.version}: version ${e.version} is missing \\(removed\\?\\)${escape(unchecked(later.length - 1, e.stream))}$`],
      };
    },
    'a line written twice': (i) => ({
      lines: lines.flatMap((l, k) => (k === i ? [l, l] : [l])),
      says: [`^${i + 2}: id ${p(i).id} repeats the event at line ${i + 1}$`],
    }),
    'a copy of an event inserted after it, with an id of its own': (i) => ({
      lines: lines.flatMap((l, k) => (k === i ? [l, formatEvent({ ...p(i), id: `${p(i).id.slice(0, -4)}ffff` })] : [l])),
      says: [`^${i + 2}: version ${p(i).version} repeats; the stream is at ${p(i).version} \\(an event inserted, duplicated or moved\\?\\)$`],
    }),
    'an event inserted before another, with its version and an id of its own': (i) => ({
      lines: lines.flatMap((l, k) => (k === i ? [formatEvent({ ...p(i), id: `${p(i).id.slice(0, -4)}ffff` }), l] : [l])),
      says: [`^${i + 1}: this event was inserted: its content does not give its hash ${hashes}, and the next event of ${p(i).stream} \\(line ${i + 2}\\) chains from the hash of the event before it, with the same version$`],
    }),
    'an event swapped with the next of its stream': (i) => {
      const later = laterOf(i);
      if (later.length === 0) return undefined;
      const j = later[0]!;
      const swapped = [...lines];
      [swapped[i], swapped[j]] = [lines[j]!, lines[i]!];
      return {
        lines: swapped,
        says: [`^${i + 1}: version ${p(i).version + 1} comes before version ${p(i).version} \\(line ${j + 1}\\): events out of order \\(moved or swapped\\)${escape(unchecked(later.length - 1, p(i).stream))}$`],
      };
    },
    'a version changed': (i) => ({
      lines: lines.map((l, k) => (k === i ? formatEvent({ ...p(i), version: p(i).version + 7 }) : l)),
      says: [`^${i + 1}: changed from ${p(i).version} to ${p(i).version + 7}: the hash is that of version ${p(i).version}, the stream's next$`],
    }),
    'a line cut short': (i) => ({
      lines: lines.map((l, k) => (k === i ? l.slice(0, 120) : l)),
      says: [`^${i + 1}: not valid JSON .*${escape(unchecked(laterOf(i).length, p(i).stream))}$`],
    }),
  };

  const whatIsSaid = async (text: string[]) => said(await verifyLines(text));

  it.each(Object.keys(changes))('%s, in the middle of a long stream', async (name) => {
    const change = changes[name]!(middle(200, 3))!;
    const problems = await whatIsSaid(change.lines);
    expect(problems).toHaveLength(change.says.length);
    problems.forEach((said, k) => expect(said).toMatch(new RegExp(change.says[k]!)));
  });

  it('property: any one change to any event gives one problem, at that event, saying what the change was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(changes)), fc.nat(events.length - 1), async (name, i) => {
        const change = changes[name]!(i);
        fc.pre(change !== undefined);
        const problems = await whatIsSaid(change!.lines);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(new RegExp(change!.says[0]!));
      }),
      { seed: 20261218, numRuns: 120 },
    );
  });

  it('property: two lines swapped give one problem or two, the first at the first of them, none outside them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(events.length - 2), fc.integer({ min: 1, max: 60 }), async (i, distance) => {
        const j = Math.min(i + distance, events.length - 1);
        const swapped = [...lines];
        [swapped[i], swapped[j]] = [lines[j]!, lines[i]!];
        const at = (await verifyLines(swapped)).problems.map((p) => (p as LocatedError).at.line!);
        expect(at.length === 1 || at.length === 2, `${at.length} problems`).toBe(true);
        expect(at[0]).toBe(i + 1);
        for (const line of at) expect(line >= i + 1 && line <= j + 1).toBe(true);
      }),
      { seed: 20261219, numRuns: 80 },
    );
  });
});

describe('the plain fold stops following a stream at a problem; verify finds out what happened', () => {
  const numbers = events.map((_, k) => k + 1);
  const flip = (hash: string) => hash.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const notFollowed = (n: number, stream: string) => `${n} later events of ${stream} were not checked: the stream's state after this event is unknown, and the fold does not follow it further`;

  it('only a hash changed: the fold counts the later events of its stream, unchecked; verify checks them', () => {
    const i = middle(200, 3);
    const { stream } = events[i]!;
    const changed = events.map((e, k) => (k === i ? { ...e, hash: flip(e.hash!) } : e));
    const folded = said(foldTimeline({ events: changed, lines: numbers }, { collectProblems: true }));
    expect(folded).toEqual([expect.stringMatching(new RegExp(`^${i + 1}: its content does not give its hash .*: this event was changed, or its hash was => `))]);
    expect(folded[0]).toContain(notFollowed(laterOf(i).length, stream));
    expect(said(verifyTimeline({ events: changed, lines: numbers }))).toEqual([expect.stringMatching(new RegExp(`^${i + 1}: only its hash was changed: .*chains from the hash its content gives$`))]);
  });

  it('a version changed: one problem in either, not one per later event of its stream', () => {
    const i = middle(200, 3);
    const { stream, version } = events[i]!;
    const changed = events.map((e, k) => (k === i ? { ...e, version: version + 7 } : e));
    expect(said(foldTimeline({ events: changed, lines: numbers }, { collectProblems: true }))).toEqual([
      `${i + 1}: version ${version + 7} leaves a gap; expected ${version} (an event removed or moved?) => ${notFollowed(laterOf(i).length, stream)}`,
    ]);
    expect(said(verifyTimeline({ events: changed, lines: numbers }))).toEqual([`${i + 1}: changed from ${version} to ${version + 7}: the hash is that of version ${version}, the stream's next`]);
  });
});
