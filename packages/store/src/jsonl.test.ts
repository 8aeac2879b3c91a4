import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidEventError } from '@hotpatch/core';
import { formatEvent, readLines, readTimeline, writeTimeline } from './jsonl.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-jsonl-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const event = (version: number, over: Record<string, unknown> = {}) => ({
  id: `0193f2a0-0000-7000-8000-${String(version).padStart(12, '0')}`,
  stream: 'device/d1',
  version,
  type: 'EligibilityAssessed',
  time: '2026-01-05T08:00:00.000Z',
  data: { eligible: true, reasons: [] },
  ...over,
});

describe('timeline files', () => {
  it('writes canonical lines: fixed key order, whatever order the object had', () => {
    const shuffled = { data: { eligible: true, reasons: [] }, time: '2026-01-05T08:00:00.000Z', type: 'EligibilityAssessed', version: 1, stream: 'device/d1', id: event(1).id, position: 4 };
    expect(formatEvent(shuffled)).toBe(
      `{"id":"${event(1).id}","stream":"device/d1","version":1,"type":"EligibilityAssessed","time":"2026-01-05T08:00:00.000Z","data":{"eligible":true,"reasons":[]},"position":4}`,
    );
  });

  it('round-trips a timeline byte for byte', async () => {
    const file = join(dir, 'round.jsonl');
    const events = [event(1, { type: 'DeviceEnrolled', data: { edition: 'Enterprise E3', build: '26100.1', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B-☃' } }), event(2, { meta: { by: 'ü' } })];
    await writeTimeline(file, events);
    const text = await readFile(file, 'utf8');
    const timeline = await readTimeline(file);
    expect(timeline.problems).toEqual([]);
    expect(timeline.lines).toEqual([1, 2]);
    const again = join(dir, 'round2.jsonl');
    await writeTimeline(again, timeline.events);
    expect(await readFile(again, 'utf8')).toBe(text);
  });

  it('reports every bad line with its number and keeps the good ones', async () => {
    const file = join(dir, 'bad.jsonl');
    const lines = [JSON.stringify(event(1)), '{"id": broken', '', JSON.stringify(event(3, { type: 'Nope' })), JSON.stringify(event(4))];
    await writeFile(file, lines.join('\n') + '\n');
    const timeline = await readTimeline(file);
    expect(timeline.lines).toEqual([1, 5]);
    expect(timeline.problems.map((p) => [p.at.line, p.field ?? null])).toEqual([
      [2, null],
      [3, null],
      [4, 'type'],
    ]);
    expect(timeline.problems[0]!.message).toMatch(/line 2: not valid JSON/);
    await expect(readTimeline(file, { stopAtFirstProblem: true })).rejects.toBeInstanceOf(InvalidEventError);
  });

  it('reads lines across chunk boundaries, with CRLF endings and no final newline', async () => {
    const file = join(dir, 'lines.txt');
    const long = 'é'.repeat(700_000);
    await writeFile(file, `a\r\n${long}\nlast`);
    const seen: Array<[number, number]> = [];
    for await (const { line, text } of readLines(file)) seen.push([line, text.length]);
    expect(seen).toEqual([
      [1, 1],
      [2, 700_000],
      [3, 4],
    ]);
  });
});
