/** A store's log verified page by page, then against the store's record of each stream's head. */
import { describe, expect, it } from 'vitest';
import type { HotpatchEvent, InvalidEventError } from '@hotpatch/core';
import { exportedLog } from '../test/logs.js';
import { StoreVerification } from './verify-store.js';

const events = exportedLog(400, 8, 3);
/** The heads a store keeps for `log`: each stream's last hash. */
const headsOf = (log: readonly HotpatchEvent[]) => new Map(log.map((e) => [e.stream, e.hash!] as const));

function verify(log: readonly HotpatchEvent[], heads: ReadonlyMap<string, string>) {
  const verification = new StoreVerification();
  for (let i = 0; i < log.length; i += 64) verification.add(log.slice(i, i + 64));
  verification.checkHeads(heads);
  return verification.result();
}
const said = (report: ReturnType<typeof verify>) => report.problems.map((p) => `${(p as InvalidEventError).at.position ?? '-'}: ${(p as InvalidEventError).problem}`);

describe('verifying a store', () => {
  const last = events.findLastIndex((e) => e.stream === events[0]!.stream);
  const { stream, position } = events[last]!;

  it('passes a log whose heads are its streams’ last hashes, with each stream’s last state', () => {
    const report = verify(events, headsOf(events));
    expect(report).toMatchObject({ ok: true, events: 400, streams: 8, hashed: true, problems: [] });
    expect(new Map(report.streamStates.map((s) => [s.stream, s.hash]))).toEqual(headsOf(events));
  });

  it('a last event changed: the head, as a next event would, says it was (one problem, not two)', () => {
    const changed = events.map((e, k) => (k === last ? { ...e, time: '2027-01-01T00:00:00.000Z' } : e));
    expect(said(verify(changed, headsOf(events)))).toEqual([
      expect.stringMatching(new RegExp(`^${position}: this event was changed after it was hashed: .*, and the store's head of ${stream} is the hash as written$`)),
    ]);
  });

  it('events removed from the end of a stream, and a stream missing from the heads', () => {
    const removed = events.filter((_, k) => k !== last);
    const heads = headsOf(events);
    const other = events[1]!.stream;
    heads.delete(other);
    expect(said(verify(removed, heads))).toEqual([
      `${events[events.findLastIndex((e, k) => k < last && e.stream === stream)]!.position}: the store's head of ${stream} does not match its last event: events were removed from its end, or the head was changed`,
      `-: events of ${other} are not in the store's heads: they were inserted behind its back`,
    ]);
  });
});
