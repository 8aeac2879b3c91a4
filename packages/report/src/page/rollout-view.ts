/** A rollout: its rings as status gives them, its lanes over time, failures against the budget, its halt. */
import type { ReportData, RolloutSection } from '../model.js';
import { cellText, deviceCell, factsTable, h, s, table } from './dom.js';
import { INK, labelOf } from './palette.js';
import { lanesChart, reasonAfterRing, type LanesChart } from './lanes.js';
import { axis, minute } from './time.js';

const dash = (v: number | string | null) => (v === null ? '-' : String(v));
/** Rows of a device table drawn at most (a halt in a ring of thousands). */
const LISTED = 500;

export function rolloutView(data: ReportData, r: RolloutSection, heading: string, idPrefix: string): { element: HTMLElement; lanes: LanesChart } {
  const p = r.progress;
  const state = p.state === 'halted' ? cellText(`halted — ${p.haltReason ?? ''}`) : p.state === 'paused' ? `paused by ${p.pausedBy.join(' and ')}` : p.state;
  const lanes = lanesChart(data, r.lanes, r, `${heading}: each ring's devices over time`);
  const element = h(
    'section',
    { id: `${idPrefix}rollout`, 'aria-labelledby': `${idPrefix}rollout-h` },
    h('h2', { id: `${idPrefix}rollout-h`, tabindex: -1 }, heading),
    h('p', { class: 'summary', 'data-rollout-state': p.state }, `${p.release}: `, h('strong', {}, state)),
    table(
      'Rings, as hotpatch status gives them',
      ['ring', 'devices', 'budget', 'started', 'in flight', 'succeeded', 'failed', 'set aside', 'withdrawn', 'gate'],
      p.rings.map((g) => [g.name, dash(g.size), dash(g.budget), g.started === null ? '-' : g.started.slice(0, 16).replace('T', ' '), g.inFlight, g.succeeded, g.failed, g.setAside, g.withdrawn, g.gatePassed ? 'passed' : '-']),
      (i) => ({ 'data-ring': p.rings[i]!.name }),
    ),
    h('h3', {}, 'Devices over time'),
    lanes.element,
    h('h3', {}, 'Failures against the budget'),
    budgetChart(data, r),
    factsTable(
      'Failures against the budget, as a table',
      table('Each change of a ring’s failures', ['time', 'ring', 'failed', 'budget'], r.failures.flatMap((f) => f.points.map(([t, n]) => [minute(data, t), f.ring, n, dash(f.budget)]))),
    ),
    h('h3', {}, 'Gates and pauses'),
    table(
      'Gates: what each ring must prove, and when it did',
      ['ring', 'verified ≥', 'failure rate ≤', 'set aside ≤', 'soak', 'deadline', 'passed'],
      r.gates.map((g) => [g.ring, `${Math.round(g.minVerifiedShare * 100)}%`, `${Math.round(g.maxFailureRate * 100)}%`, g.maxSetAsideShare === null ? 'any' : `${Math.round(g.maxSetAsideShare * 100)}%`, `${g.minSoakHours} h`, `${g.deadlineDays} d`, g.passedAt === null ? 'not passed' : minute(data, g.passedAt)]),
    ),
    r.pauses.length === 0
      ? h('p', {}, 'No pause of this rollout or its rings in this window.')
      : table(
          'Pauses: who, why, from when to when',
          ['what', 'by', 'why', 'from', 'to'],
          r.pauses.map((q) => [q.scope === 'ring' ? `ring ${q.ring}` : 'the rollout', q.by, q.reason || '-', minute(data, q.from), q.to === null ? 'still paused' : minute(data, q.to)]),
        ),
    r.halt ? haltView(data, r) : null,
    factsTable(
      'Every change of the rollout on this axis',
      table('The rollout’s events a person reads (hotpatch history --rollout gives all)', ['time', 'what', 'ring', 'device', 'by', 'why', 'changed'], r.marks.map((m) => [minute(data, m.t), m.kind, m.ring ?? '-', m.device !== undefined ? deviceCell(m.device) : '-', m.by ?? '-', m.reason ?? '-', m.text])),
    ),
  );
  return { element, lanes };
}

/** Each started ring's failures as a step line, its budget as a dashed line: the halt is where one crosses the other. */
function budgetChart(data: ReportData, r: RolloutSection): SVGElement {
  const width = 1000;
  const a = axis(data, 130, width - 140);
  const rings = r.failures.filter((f) => f.points.length > 0);
  const rowHeight = 90;
  const parts: SVGElement[] = [];
  rings.forEach((f, i) => {
    const top = 10 + i * (rowHeight + 20);
    const max = Math.max(1, f.budget ?? 0, ...f.points.map(([, n]) => n)) + 1;
    const y = (n: number) => top + rowHeight - (n / max) * rowHeight;
    let d = '';
    let last = 0;
    f.points.forEach(([t, n], j) => {
      d += j === 0 ? `M${a.x(t)} ${y(n)}` : `H${a.x(t)}V${y(n)}`;
      last = n;
    });
    d += `H${a.x(a.to)}`;
    parts.push(
      s('text', { x: 4, y: top + 14, class: 'ring-name' }, f.ring),
      s('text', { x: 4, y: top + 30, class: 'tick' }, `budget ${f.budget ?? '-'}, failed ${last}`),
      s('line', { x1: a.left, x2: a.left + a.width, y1: top + rowHeight, y2: top + rowHeight, stroke: INK.axis }),
      s('path', { d, fill: 'none', stroke: '#000000', 'stroke-width': 2, class: 'failures', 'data-ring': f.ring }, s('title', {}, `${f.ring}: failures over time (now ${last})`)),
    );
    if (f.budget !== null)
      parts.push(
        s('line', { x1: a.left, x2: a.left + a.width, y1: y(f.budget), y2: y(f.budget), stroke: INK.budget, 'stroke-dasharray': '8 4', 'stroke-width': 2, class: 'budget', 'data-ring': f.ring }, s('title', {}, `${f.ring}: budget ${f.budget}`)),
        s('text', { x: a.left + a.width - 4, y: y(f.budget) - 4, 'text-anchor': 'end', class: 'tick' }, `budget ${f.budget}`),
      );
    if (r.halt && r.halt.view.ring === f.ring && a.has(r.halt.t)) parts.push(s('line', { x1: a.x(r.halt.t), x2: a.x(r.halt.t), y1: top, y2: top + rowHeight, stroke: INK.halt, 'stroke-width': 2, 'stroke-dasharray': '6 3' }, s('title', {}, cellText(`halted: ${r.halt.view.reason}`))));
  });
  const height = Math.max(30, 20 + rings.length * (rowHeight + 20));
  if (rings.length === 0) parts.push(s('text', { x: 4, y: 20 }, 'No ring started in this window.'));
  return s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'failures of each ring against its budget', class: 'budget-chart' }, ...parts);
}

/** The halt: where, why, what it saw, what came after, and what it did to each device in flight. */
function haltView(data: ReportData, r: RolloutSection): HTMLElement {
  const halt = r.halt!;
  const v = halt.view;
  const withdrawn = halt.devices.filter((d) => d.outcome === 'withdrawn').length;
  return h(
    'section',
    { class: 'halt', 'aria-label': 'the halt' },
    h('h3', {}, 'The halt'),
    h(
      'p',
      { class: 'halt-reason' },
      `Halted ${minute(data, halt.t)} in `,
      h('strong', { 'data-halt-ring': v.ring ?? '' }, v.ring ?? 'no ring'),
      ': ',
      // The reason as status gives it (its attribute); its text without the ring it names first, said just before.
      h('strong', { 'data-halt-reason': v.reason }, cellText(reasonAfterRing(v.ring, v.reason))),
      '.',
    ),
    h(
      'p',
      {},
      `When it halted, ${v.ring ?? 'the ring'} had ${v.atHalt.succeeded} succeeded, ${v.atHalt.failed} failed, ${v.atHalt.setAside} set aside and ${v.atHalt.inFlight} in flight. ` +
        `Since the halt: ${v.sinceHalt.succeeded} succeeded, ${v.sinceHalt.failed} failed, ${v.sinceHalt.setAside} set aside; ${withdrawn} withdrawn (the halt took the release back off them).`,
    ),
    table(
      `What the halt did to each device in flight at it${halt.devices.length > LISTED ? ` (the first ${LISTED} of ${halt.devices.length})` : ''}`,
      ['device', 'state at the halt', 'after the halt', 'outcome'],
      halt.devices.slice(0, LISTED).map((d) => [deviceCell(d.device), labelOf(d.stateAtHalt), d.after.map((x) => `${labelOf(x.state)} ${minute(data, x.t)}`).join(' → ') || '-', d.outcome]),
      (i) => ({ 'data-device': halt.devices[i]!.device }),
    ),
  );
}
