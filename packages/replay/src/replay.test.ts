import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatEvent } from '@hotpatch/store';
import { foldFile } from './fold-file.js';
import { foldTimeline } from './fold.js';
import { InvalidEventError, TransitionRefusedError, type DeviceEvent, type DeviceEventBody } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { deviceAt, deviceHistory, fleetAt, fleetOf, historyOfFile } from './queries.js';
import { verifyTimeline } from './verify.js';

let n = 0;
const versions = new Map<string, number>();
function ev(device: string, time: string, body: DeviceEventBody, over: Partial<DeviceEvent> = {}): DeviceEvent {
  const stream = `device/${device}`;
  const version = (versions.get(stream) ?? 0) + 1;
  versions.set(stream, version);
  return { id: `0193f2a0-0000-7000-8000-${String(++n).padStart(12, '0')}`, stream, version, time, ...body, ...over } as DeviceEvent;
}
const enrol: DeviceEventBody = { type: 'DeviceEnrolled', data: { ...eligibleProfile, ring: 'pilot', baseline: 'B1' } };
const ok: DeviceEventBody = { type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } };
const stage: DeviceEventBody = { type: 'PatchStaged', data: { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true } };
const start: DeviceEventBody = { type: 'PatchApplyStarted', data: { patch: 'P1' } };
const applied: DeviceEventBody = { type: 'PatchApplied', data: { patch: 'P1' } };

function timeline() {
  versions.clear();
  return [
    ev('b', '2026-01-05T08:00:00.000Z', enrol),
    ev('a', '2026-01-05T08:01:00.000Z', enrol),
    ev('a', '2026-01-05T08:02:00.000Z', ok),
    ev('b', '2026-01-05T08:03:00.000Z', ok),
    ev('a', '2026-02-10T14:00:00.000Z', stage),
    ev('a', '2026-02-10T14:03:00.000Z', start),
    ev('a', '2026-02-10T14:09:00.000Z', applied),
  ];
}

describe('replay queries', () => {
  it('gives every device’s state at the end, sorted by device', () => {
    const fleet = fleetAt({ events: timeline() });
    expect(fleet).toEqual([
      { device: 'a', state: 'applied', baseline: 'B1', patches: ['P1'], inFlight: 'P1', version: 5, time: '2026-02-10T14:09:00.000Z' },
      { device: 'b', state: 'current', baseline: 'B1', patches: [], inFlight: null, version: 2, time: '2026-01-05T08:03:00.000Z' },
    ]);
  });

  it('answers "what state was the device in at 14:03"', () => {
    expect(deviceAt({ events: timeline() }, 'a', { kind: 'time', time: '2026-02-10T14:03:00Z' })).toMatchObject({ state: 'applying', version: 4 });
    expect(deviceAt({ events: timeline() }, 'a', { kind: 'time', time: '2026-02-10T14:02:59Z' })).toMatchObject({ state: 'staged' });
    expect(deviceAt({ events: timeline() }, 'a', { kind: 'time', time: '2026-01-01T00:00:00Z' })).toBeUndefined();
  });

  it('stops after a global position: the line number when events carry none, else their position', () => {
    expect(fleetAt({ events: timeline() }, { kind: 'position', position: 3 }).map((v) => [v.device, v.state])).toEqual([
      ['a', 'current'],
      ['b', 'enrolled'],
    ]);
    const positioned = timeline().map((e, i) => ({ ...e, position: 100 + i * 10 }));
    expect(deviceAt({ events: positioned }, 'a', { kind: 'position', position: 145 })?.state).toBe('staged');
    const withLines = { events: timeline(), lines: [1, 2, 3, 4, 6, 7, 8] };
    expect(deviceAt(withLines, 'a', { kind: 'position', position: 6 })?.state).toBe('staged');
  });

  it('lists the states a device went through', () => {
    const steps = deviceHistory({ events: timeline() }, 'a');
    expect(steps.map((s) => `${s.before?.state ?? '-'}→${s.after.state}`)).toEqual(['-→enrolled', 'enrolled→current', 'current→staged', 'staged→applying', 'applying→applied']);
    expect(steps.map((s) => s.position)).toEqual([2, 3, 5, 6, 7]);
  });

  it('throws the first problem with where it is', () => {
    const events = timeline();
    events.splice(5, 1);
    expect(() => fleetAt({ events, lines: [1, 2, 3, 4, 5, 7], file: 't.jsonl' })).toThrow(/t.jsonl line 7 device\/a@5: version: version 5 leaves a gap; expected 4/);
  });
});

describe('verifyTimeline', () => {
  it('passes a good timeline', () => {
    expect(verifyTimeline({ events: timeline() })).toMatchObject({ ok: true, events: 7, streams: 2, problems: [] });
  });

  it('reports every problem, in line order', () => {
    const events = timeline();
    const lines = events.map((_, i) => i + 1);
    events[3] = { ...events[3]!, version: 3 }; // gap in b
    events.push({ ...events[6]!, id: events[0]!.id, version: 6 }); // line 8: an id the log already holds
    lines.push(8);
    events.push({ ...events[4]!, id: '0193f2a0-0000-7000-8000-0000000fffff', version: 6 }); // line 9: staging while applied
    lines.push(9);
    events.push({ ...events[2]!, id: '0193f2a0-0000-7000-8000-0000000ffffe' }); // line 10: version 2 again
    lines.push(10);
    const report = verifyTimeline({ events, lines });
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => [(p as InvalidEventError).at.line, p.constructor.name])).toEqual([
      [4, 'InvalidEventError'],
      [8, 'InvalidEventError'],
      [9, 'TransitionRefusedError'],
      [10, 'InvalidEventError'],
    ]);
    expect(report.problems[0]!.message).toMatch(/version 3 leaves a gap; expected 2/);
    expect(report.problems[1]!.message).toMatch(/repeats the event at line 1/);
    expect(report.problems[2]).toMatchObject({ state: 'applied', eventType: 'PatchStaged' });
    expect(report.problems[3]!.message).toMatch(/version 2 repeats; the stream is at 6/);
  });
});

describe('foldFile', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  async function file(lines: string[]): Promise<string> {
    const dir = await mkdtemp(join(os.tmpdir(), 'hotpatch-fold-'));
    dirs.push(dir);
    const path = join(dir, 't.jsonl');
    await writeFile(path, lines.map((l) => l + '\n').join(''));
    return path;
  }

  it('folds a file line by line to what reading it whole and folding gives', async () => {
    const events = timeline();
    const path = await file(events.map(formatEvent));
    const folded = await foldFile(path);
    expect(fleetOf(folded.streams)).toEqual(fleetAt({ events }));
    expect(folded).toMatchObject({ folded: 7, lines: 7, lineProblems: [], problems: [] });
    // A replay point stops the reading: position N is line N here.
    expect(fleetOf((await foldFile(path, { until: { kind: 'position', position: 3 } })).streams).map((v) => [v.device, v.state])).toEqual([
      ['a', 'current'],
      ['b', 'enrolled'],
    ]);
    expect((await foldFile(path, { until: { kind: 'position', position: 3 } })).lines).toBe(4);
  });

  it('gives a stream’s history from a file as it folds it, as from the events read whole', async () => {
    const events = timeline();
    const path = await file(events.map(formatEvent));
    for (const until of [{ kind: 'end' }, { kind: 'time', time: '2026-02-10T14:03:00Z' }, { kind: 'position', position: 5 }] as const) {
      for (const device of ['a', 'b', 'nobody']) expect(await historyOfFile.device(path, device, until)).toEqual(deviceHistory({ events, lines: events.map((_, i) => i + 1) }, device, until));
    }
    // Positions are the lines when events carry none.
    expect((await historyOfFile.device(path, 'a')).map((s) => s.position)).toEqual([2, 3, 5, 6, 7]);
    const bad = await file([...events.slice(0, 4).map(formatEvent), '{"id": oops}', ...events.slice(4).map(formatEvent)]);
    await expect(historyOfFile.device(bad, 'b')).rejects.toThrow(/t.jsonl line 5: not valid JSON/);
    // Reading stops at the first event past the replay point: a bad line after that is not reached.
    expect((await historyOfFile.device(bad, 'b', { kind: 'position', position: 3 })).map((s) => s.after.state)).toEqual(['enrolled']);
  });

  it('names the first bad line, or collects every problem with its line', async () => {
    const events = timeline();
    const lines = events.map(formatEvent);
    lines.splice(2, 0, '{"id": oops}');
    lines.push(formatEvent({ ...events[6]!, id: events[0]!.id, version: 6 }));
    const path = await file(lines);
    await expect(foldFile(path)).rejects.toThrow(/t.jsonl line 3: not valid JSON/);
    const report = await foldFile(path, { collectProblems: true });
    expect(report.lineProblems.map((p) => p.at.line)).toEqual([3]);
    expect(report.problems.map((p) => [(p as InvalidEventError).at.line, p.message.replace(/^.*: /, '')])).toEqual([[9, `id ${events[0]!.id} repeats the event at line 1`]]);
    expect(report.folded).toBe(foldTimeline({ events }).folded);
  });
});
