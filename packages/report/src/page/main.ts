/**
 * The report page: reads the data Node computed (script#report-data) and draws it. It computes no figure of its own
 * beyond looking a time up in the bands and counting devices per column. The same bundle runs the live console of
 * `hotpatch serve` (console.ts), which calls `render` again with each new data (see the package README).
 */
import './style.css';
import type { ReportData } from '../model.js';
import { h, s } from './dom.js';
import { consoleStart } from './console.js';
import { cursorPanel } from './cursor.js';
import { deviceView } from './device-view.js';
import { lanesChart, type LanesChart } from './lanes.js';
import { rolloutView } from './rollout-view.js';
import { minute } from './time.js';

export function render(root: HTMLElement, data: ReportData): void {
  const charts: LanesChart[] = [];
  const sections: HTMLElement[] = [];
  const nav: Array<[string, string]> = [];
  if (data.rollout) {
    const v = rolloutView(data, data.rollout, `Rollout ${data.rollout.id}`, '');
    charts.push(v.lanes);
    sections.push(v.element);
    nav.push(['rollout', 'Rollout']);
  }
  if (data.device) {
    const v = deviceView(data, data.device);
    charts.push(v.lanes);
    sections.push(v.element);
    nav.push(['device', 'Device']);
  }
  if (data.fleet.length > 0) {
    const lanes = lanesChart(data, data.fleet, null, 'every device of the fleet over time, by ring');
    charts.push(lanes);
    sections.push(h('section', { id: 'fleet', 'aria-labelledby': 'fleet-h' }, h('h2', { id: 'fleet-h', tabindex: -1 }, 'The fleet by ring'), lanes.element));
    nav.push(['fleet', 'Fleet']);
  }
  if (data.whatIf) {
    const w = data.whatIf;
    const parts: HTMLElement[] = [];
    if (w.rollout) {
      const v = rolloutView(data, w.rollout, `What-if: rollout ${w.rollout.id} under ${w.policy}`, 'whatif-');
      charts.push(v.lanes);
      parts.push(v.element);
    } else if (w.fleet.length > 0) {
      const what = data.device ? `${data.device.id}` : 'The fleet';
      const lanes = lanesChart(data, w.fleet, null, `${what} under ${w.policy}`);
      charts.push(lanes);
      parts.push(h('div', {}, h('h3', {}, `${what} under ${w.policy}`), lanes.element));
    } else parts.push(h('p', {}, `The what-if run under ${w.policy} has no rollout ${data.rollout?.id ?? ''}.`));
    sections.push(h('section', { id: 'whatif', class: 'whatif', 'aria-label': 'what-if' }, h('h2', { tabindex: -1 }, `What-if under ${w.policy}, on the same axes`), ...parts));
    nav.push(['whatif', 'What-if']);
  }
  const lanes = data.rollout?.lanes ?? (data.device ? [{ ring: data.device.ring ?? 'device', devices: [data.device.band] }] : data.fleet);
  const cursor = cursorPanel(data, lanes, (t) => {
    for (const c of charts) c.setCursor(t);
  });
  nav.push(['cursor', 'Time cursor']);
  root.replaceChildren(
    patterns(),
    h(
      'header',
      {},
      h('h1', {}, `hotpatch report — ${data.title}`),
      h('p', { class: 'note' }, `From ${data.source}; ${minute(data, data.window[0])} to ${minute(data, data.window[1])} (UTC). Figures from the projections of hotpatch status, history and replay.`),
      h('nav', { 'aria-label': 'sections' }, h('ul', {}, ...nav.map(([id, text]) => h('li', {}, h('a', { href: `#${id}` }, text))))),
    ),
    ...sections.slice(0, 1),
    cursor.element,
    ...sections.slice(1),
  );
}

/** Keyboard: "," and "." move the cursor a step back and forth wherever the focus is (outside text fields). */
function stepCursorByKey(e: KeyboardEvent): void {
  if ((e.target as HTMLElement).closest('input, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
  const slider = document.getElementById('cursor-slider') as HTMLInputElement | null;
  if (slider === null || (e.key !== ',' && e.key !== '.')) return;
  slider.value = String(Number(slider.value) + (e.key === '.' ? 1 : -1));
  slider.dispatchEvent(new Event('input'));
}

/** Patterns the charts refer to (the set-aside hatch). */
function patterns(): SVGElement {
  return s(
    'svg',
    { width: 0, height: 0, 'aria-hidden': 'true', class: 'patterns' },
    s('defs', {}, s('pattern', { id: 'set-aside', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, s('rect', { width: 6, height: 6, fill: '#ffffff' }), s('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#000000', 'stroke-width': 3 }))),
  );
}

const root = document.getElementById('report');
const source = document.getElementById('report-data');
const live = document.getElementById('console');
if (root !== null && source?.textContent) {
  render(root, JSON.parse(source.textContent) as ReportData);
  document.addEventListener('keydown', stepCursorByKey);
} else if (live !== null) {
  consoleStart(live, render);
  document.addEventListener('keydown', stepCursorByKey);
}
