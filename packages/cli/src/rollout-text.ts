/**
 * A rollout's progress as `status` and `history --rollout` print it: one table of its rings and, once halted, what
 * the halt saw and what came after. Both commands print this, from the same view, so they tell one story with
 * the same numbers (defined in docs/domain.md, "A rollout's figures").
 */
import type { RolloutProgress } from '@hotpatch/core';
import { table } from './format.js';

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const minute = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 16).replace('T', ' '));
const orDash = (n: number | null) => (n === null ? '-' : String(n));

/** The rings' table, then (halted) the halt's story; every line indented by `indent`. */
export function rolloutLines(r: RolloutProgress, indent = '    '): string[] {
  const halted = r.state === 'halted';
  const lines = table(
    ['ring', 'devices', 'budget', 'started', 'in flight', 'succeeded', 'failed', 'set aside', ...(halted ? ['withdrawn'] : []), 'gate'],
    r.rings.map((g) => [
      g.name,
      orDash(g.size),
      orDash(g.budget),
      minute(g.started),
      String(g.inFlight),
      String(g.succeeded),
      String(g.failed),
      String(g.setAside),
      ...(halted ? [String(g.withdrawn)] : []),
      g.gatePassed ? 'passed' : '-',
    ]),
  ).split('\n');
  return [...lines, ...haltLines(r)].map((l) => indent + l);
}

/**
 * What a halted rollout's halt saw of its ring (the counts behind its "N > budget"), and what its devices in
 * flight then did after it: the outcomes reported since, and the devices withdrawn.
 */
export function haltLines(r: RolloutProgress): string[] {
  const h = r.halt;
  if (h === null) return [];
  if (h.ring === null) return ['It halted before its first ring started.'];
  const ring = r.rings.find((g) => g.name === h.ring)!;
  const { atHalt: at, sinceHalt: since } = h;
  const lines = [
    `When it halted, ${h.ring} had ${at.succeeded} succeeded, ${at.failed} failed (budget ${orDash(ring.budget)}), ${at.setAside} set aside and ${at.inFlight} in flight.`,
  ];
  if (at.inFlight === 0) return lines;
  const reported = since.succeeded + since.failed + since.setAside;
  const outcomes = [
    ...(since.failed ? [`${count(since.failed, 'failure')} (failed ${at.failed} → ${ring.failed})`] : []),
    ...(since.succeeded ? [`${count(since.succeeded, 'success', 'successes')} (succeeded ${at.succeeded} → ${ring.succeeded})`] : []),
    ...(since.setAside ? [`${since.setAside} set aside (${at.setAside} → ${ring.setAside})`] : []),
  ];
  const after = reported === 0 ? `None of those ${at.inFlight} has reported an outcome since` : `Since the halt, ${reported} of those ${at.inFlight} reported: ${outcomes.join(', ')}`;
  lines.push(
    ring.withdrawn === 0
      ? `${after}.`
      : `${after}; the halt took the release back off the ${reported === 0 ? '' : 'other '}${count(ring.withdrawn, 'device')} (rolled back live where the patch allows it, a restart otherwise): withdrawn, no outcome awaited (one still reported is counted).`,
  );
  return lines;
}
