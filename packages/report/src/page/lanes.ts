/**
 * The time axis with a lane per ring (Grafana's state timeline): each device's state as colour bands, aggregated
 * per ring when it has more devices than rows fit (a stacked share of states per column), with drill-down to its
 * devices; pauses shaded, gates and the halt marked, and the time cursor across all of them.
 */
import type { PauseSpan, ReportData, RingLane, RolloutSection } from '../model.js';
import { cellText, h, hrefOfDevice, s } from './dom.js';
import { colourOf, INK, labelOf } from './palette.js';
import { axis, minute, type Axis } from './time.js';

const WIDTH = 1000;
const LEFT = 130;
const ROW = 9;
const AGGREGATE_HEIGHT = 70;
const HEADER = 18;
/** A ring with more devices than this is drawn aggregated until drilled into. */
export const AGGREGATE_ABOVE = 40;
const DRILL_ROWS = 200;
const BINS = 250;

export interface LanesChart {
  readonly element: HTMLElement;
  setCursor(t: number): void;
}

export function lanesChart(data: ReportData, lanes: readonly RingLane[], rollout: RolloutSection | null, label: string): LanesChart {
  const expanded = new Set<string>(lanes.filter((l) => l.devices.length <= AGGREGATE_ABOVE).map((l) => l.ring));
  const holder = h('div', { class: 'chart' });
  const controls = h('div', { class: 'drill' });
  let cursor: number | null = null;
  let line: SVGElement | null = null;
  let a: Axis = axis(data, LEFT, WIDTH - LEFT - 10);
  const draw = () => {
    const svg = drawLanes(data, lanes, rollout, expanded, label);
    a = axis(data, LEFT, WIDTH - LEFT - 10);
    line = s('line', { class: 'cursor', x1: 0, x2: 0, y1: 0, y2: svg.viewBox.baseVal.height, stroke: INK.cursor, 'stroke-width': 2, visibility: 'hidden' });
    svg.append(line);
    holder.replaceChildren(svg);
    if (cursor !== null) setCursor(cursor);
    controls.replaceChildren(
      ...lanes
        .filter((l) => l.devices.length > AGGREGATE_ABOVE)
        .map((l) =>
          h(
            'button',
            { type: 'button', 'aria-pressed': expanded.has(l.ring) ? 'true' : 'false', 'data-ring': l.ring },
            expanded.has(l.ring) ? `${l.ring}: back to the ring's share of states` : `${l.ring}: show its ${l.devices.length} devices${l.devices.length > DRILL_ROWS ? ` (the first ${DRILL_ROWS})` : ''}`,
          ),
        ),
    );
  };
  controls.addEventListener('click', (e) => {
    const ring = (e.target as HTMLElement).closest('button')?.dataset['ring'];
    if (ring === undefined) return;
    if (expanded.has(ring)) expanded.delete(ring);
    else expanded.add(ring);
    draw();
    controls.querySelector<HTMLButtonElement>(`button[data-ring="${CSS.escape(ring)}"]`)?.focus();
  });
  const setCursor = (t: number) => {
    cursor = t;
    if (line === null) return;
    const x = a.x(t);
    line.setAttribute('x1', String(x));
    line.setAttribute('x2', String(x));
    line.setAttribute('visibility', 'visible');
  };
  draw();
  return { element: h('div', {}, controls, holder, legend()), setCursor };
}

function drawLanes(data: ReportData, lanes: readonly RingLane[], rollout: RolloutSection | null, expanded: ReadonlySet<string>, label: string): SVGSVGElement {
  const a = axis(data, LEFT, WIDTH - LEFT - 10);
  const parts: SVGElement[] = [];
  let y = 24;
  const ringTop = new Map<string, [number, number]>();
  for (const lane of lanes) {
    parts.push(s('text', { x: 4, y: y + 12, class: 'ring-name' }, `${lane.ring} (${lane.devices.length})`));
    y += HEADER;
    const top = y;
    if (expanded.has(lane.ring)) {
      for (const d of lane.devices.slice(0, DRILL_ROWS)) {
        parts.push(deviceRow(data, a, d.steps, y, d.id, d.setAside));
        y += ROW;
      }
    } else {
      parts.push(aggregate(data, a, lane, y));
      y += AGGREGATE_HEIGHT;
    }
    ringTop.set(lane.ring, [top, y]);
    y += 6;
  }
  const height = y + 30;
  const overlay: SVGElement[] = [];
  for (const p of rollout?.pauses ?? []) overlay.push(pauseShade(data, a, p, p.ring !== null ? ringTop.get(p.ring) : [20, y]));
  for (const g of rollout?.gates ?? []) {
    const span = ringTop.get(g.ring);
    if (g.passedAt === null || span === undefined || !a.has(g.passedAt)) continue;
    const x = a.x(g.passedAt);
    overlay.push(s('line', { x1: x, x2: x, y1: span[0] - 4, y2: span[1], stroke: INK.gate, 'stroke-width': 3, class: 'gate' }, s('title', {}, `${g.ring}: gate passed ${minute(data, g.passedAt)}`)));
  }
  if (rollout?.halt && a.has(rollout.halt.t)) {
    const x = a.x(rollout.halt.t);
    overlay.push(
      s('line', { x1: x, x2: x, y1: 14, y2: y, stroke: INK.halt, 'stroke-width': 3, 'stroke-dasharray': '6 3', class: 'halt' }, s('title', {}, cellText(`halted ${minute(data, rollout.halt.t)}: ${rollout.halt.view.reason}`))),
      s('text', { x: Math.min(x + 4, WIDTH - 300), y: 12, class: 'halt-label' }, haltLabel(rollout.halt.view.ring, rollout.halt.view.reason)),
    );
  }
  return s(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': label, class: 'lanes' },
    ...parts,
    ...overlay,
    ...ticks(data, a, y),
  ) as SVGSVGElement;
}

/** One device's row: a rectangle per state it held, titled with the device, the state and its start. */
function deviceRow(data: ReportData, a: Axis, steps: readonly number[], y: number, id: string, setAside: number | undefined): SVGElement {
  const g = s('g', { 'data-device': id }, s('title', {}, id));
  for (let i = 0; i < steps.length; i += 2) {
    const start = steps[i]!;
    const end = i + 2 < steps.length ? steps[i + 2]! : a.to;
    const state = data.states[steps[i + 1]!]!;
    const x = a.x(start);
    g.append(s('rect', { x, y, width: Math.max(0.5, a.x(end) - x), height: ROW - 1, fill: colourOf(state), 'data-state': state }, s('title', {}, `${id}: ${labelOf(state)} from ${minute(data, start)}`)));
  }
  if (setAside !== undefined) g.append(s('rect', { x: a.x(setAside), y, width: Math.max(1, a.x(a.to) - a.x(setAside)), height: ROW - 1, fill: 'url(#set-aside)' }, s('title', {}, `${id}: set aside ${minute(data, setAside)}`)));
  // In the console a row opens the device's view (a link: reached with Tab, followed with Enter).
  const href = hrefOfDevice(id);
  return href === undefined ? g : s('a', { href, class: 'device-link', 'data-device-link': id, 'aria-label': `device ${id}: its view` }, g);
}

/** A ring's share of states over time: per column, how many of its devices were in each state (stacked). */
function aggregate(data: ReportData, a: Axis, lane: RingLane, y: number): SVGElement {
  const counts = binCounts(data, lane, a.from, a.to, BINS);
  const n = Math.max(1, lane.devices.length);
  const w = a.width / BINS;
  const paths = data.states.map(() => [] as string[]);
  for (let b = 0; b < BINS; b++) {
    let top = y;
    for (let st = 0; st < data.states.length; st++) {
      const c = counts[st]![b]!;
      if (c === 0) continue;
      const hgt = (c / n) * AGGREGATE_HEIGHT;
      paths[st]!.push(`M${(a.left + b * w).toFixed(1)} ${top.toFixed(2)}h${(w + 0.3).toFixed(2)}v${hgt.toFixed(2)}h${(-w - 0.3).toFixed(2)}Z`);
      top += hgt;
    }
  }
  return s(
    'g',
    { class: 'aggregate', 'data-ring': lane.ring },
    s('title', {}, `${lane.ring}: ${lane.devices.length} devices, the share in each state over time`),
    ...paths.flatMap((p, st) => (p.length === 0 ? [] : [s('path', { d: p.join(''), fill: colourOf(data.states[st]!), 'data-state': data.states[st]! }, s('title', {}, `${lane.ring}: ${labelOf(data.states[st]!)}`))])),
  );
}

/** Devices per state per column: a difference array over each device's steps, then running sums. */
export function binCounts(data: ReportData, lane: RingLane, from: number, to: number, bins: number): Int32Array[] {
  const diff = data.states.map(() => new Int32Array(bins + 1));
  const width = Math.max(1, to - from) / bins;
  // A step covers the columns whose middle it holds.
  const column = (t: number) => Math.min(bins, Math.max(0, Math.ceil((t - from) / width - 0.5)));
  for (const d of lane.devices) {
    const st = d.steps;
    for (let i = 0; i < st.length; i += 2) {
      const start = column(st[i]!);
      const end = i + 2 < st.length ? column(st[i + 2]!) : bins;
      if (end <= start) continue;
      diff[st[i + 1]!]![start]!++;
      diff[st[i + 1]!]![end]!--;
    }
  }
  return diff.map((dd) => {
    const out = new Int32Array(bins);
    let run = 0;
    for (let b = 0; b < bins; b++) out[b] = run += dd[b]!;
    return out;
  });
}

function pauseShade(data: ReportData, a: Axis, p: PauseSpan, span: [number, number] | undefined): SVGElement {
  const [top, bottom] = span ?? [20, 40];
  const x = a.x(p.from);
  const end = a.x(p.to ?? a.to);
  const who = `${p.scope === 'ring' ? `ring ${p.ring}` : 'rollout'} paused by the ${p.by}${p.reason ? ` (${cellText(p.reason)})` : ''} from ${minute(data, p.from)}${p.to !== null ? ` to ${minute(data, p.to)}` : ''}`;
  return s('rect', { x, y: top, width: Math.max(2, end - x), height: bottom - top, fill: INK.pause, 'fill-opacity': 0.25, stroke: INK.pause, class: 'pause' }, s('title', {}, who));
}

/** Ticks along the bottom: hours, days or weeks, whichever gives at most ten. */
function ticks(data: ReportData, a: Axis, y: number): SVGElement[] {
  const HOUR = 3_600_000;
  const step = [HOUR, 6 * HOUR, 24 * HOUR, 7 * 24 * HOUR, 30 * 24 * HOUR].find((st) => (a.to - a.from) / st <= 10) ?? 90 * 24 * HOUR;
  const base = Date.parse(data.base);
  const out: SVGElement[] = [s('line', { x1: a.left, x2: a.left + a.width, y1: y + 2, y2: y + 2, stroke: INK.axis })];
  for (let t = Math.ceil((base + a.from) / step) * step - base; t <= a.to; t += step) {
    const x = a.x(t);
    out.push(s('line', { x1: x, x2: x, y1: y + 2, y2: y + 7, stroke: INK.axis }), s('text', { x, y: y + 20, 'text-anchor': 'middle', class: 'tick' }, step >= 24 * HOUR ? minute(data, t).slice(0, 10) : minute(data, t).slice(5)));
  }
  return out;
}

/** The states' colours, named. */
export function legend(): HTMLElement {
  const states = ['current', 'staged', 'applying', 'applied', 'verified', 'failed', 'rollingBack', 'rolledBack', 'needsReboot', 'ineligible', 'retired'];
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'colours of the states' },
    ...states.map((st) => h('li', {}, swatch(colourOf(st)), labelOf(st))),
    h('li', {}, h('span', { class: 'swatch set-aside' }), 'set aside (agent silent)'),
  );
}

/** A colour's swatch, its colour set through the CSSOM: no style attribute, which the console's CSP refuses. */
function swatch(colour: string): HTMLElement {
  const span = h('span', { class: 'swatch' });
  span.style.background = colour;
  return span;
}

/** The halt's mark on the axis: its ring and its reason, the ring said once (a reason names its ring first: "pilot: …"). */
export function haltLabel(ring: string | null | undefined, reason: string): string {
  if (ring === undefined || ring === null) return cellText(`halted: ${reason}`);
  return cellText(`halted in ${ring}: ${reasonAfterRing(ring, reason)}`);
}

/** A halt's reason without the ring it names first ("pilot: failures …" → "failures …"), for a text that names the ring. */
export const reasonAfterRing = (ring: string | null | undefined, reason: string): string => (ring != null && reason.startsWith(`${ring}: `) ? reason.slice(ring.length + 2) : reason);
