/** The lifecycle drawn from the machine (nodes in columns by distance from the start), a device's path highlighted. */
import type { LifecycleDiagram } from '../model.js';
import { h, s } from './dom.js';
import { colourOf, INK, labelOf } from './palette.js';

const COL = 150;
const ROWH = 62;
const NODE_W = 112;
const NODE_H = 30;

/** `path`: the transitions a device took, as [from, to] in order (from `history`: its state before and after each event). */
export function lifecycleChart(diagram: LifecycleDiagram, path: ReadonlyArray<readonly [string, string]>): SVGElement {
  const at = new Map(diagram.nodes.map((n) => [n.state, { x: 20 + n.x * COL, y: 20 + n.y * ROWH }]));
  const taken = new Map<string, number>();
  for (const [a, b] of path) taken.set(`${a}→${b}`, (taken.get(`${a}→${b}`) ?? 0) + 1);
  const visited = new Set(path.flat());
  const width = 40 + Math.max(...diagram.nodes.map((n) => n.x)) * COL + NODE_W;
  const height = 40 + Math.max(...diagram.nodes.map((n) => n.y)) * ROWH + NODE_H + 20;
  const edges = diagram.edges.map((e) => {
    const a = at.get(e.source);
    const b = at.get(e.target);
    if (a === undefined || b === undefined) return null;
    const count = taken.get(`${e.source}→${e.target}`) ?? 0;
    const on = count > 0;
    const [x1, y1, x2, y2] = [a.x + NODE_W / 2, a.y + NODE_H / 2, b.x + NODE_W / 2, b.y + NODE_H / 2];
    // A loop above its state; other edges bow to one side so that a pair in both directions stays apart.
    const d =
      e.source === e.target
        ? `M${a.x + 30} ${a.y}c-10 -26 62 -26 52 0`
        : `M${x1} ${y1}Q${(x1 + x2) / 2 + (y2 - y1) * 0.18} ${(y1 + y2) / 2 - (x2 - x1) * 0.18} ${x2} ${y2}`;
    return s(
      'path',
      { d, class: on ? 'edge on' : 'edge', 'data-edge': `${e.source}→${e.target}`, 'data-count': count, fill: 'none', stroke: on ? INK.cursor : '#bbbbbb', 'stroke-width': on ? 3 : 1, 'marker-end': on ? 'url(#arrow-on)' : 'url(#arrow)' },
      s('title', {}, `${e.source} → ${e.target}: ${e.events.join(', ')}${on ? ` — taken ${count}×` : ''}`),
    );
  });
  const nodes = diagram.nodes.map((n) => {
    const p = at.get(n.state)!;
    const on = visited.has(n.state);
    return s(
      'g',
      { class: on ? 'node on' : 'node', 'data-state': n.state },
      s('rect', { x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: 6, fill: on ? colourOf(n.state) : '#ffffff', stroke: on ? '#000000' : '#999999', 'stroke-width': on ? 2 : 1 }),
      s('text', { x: p.x + NODE_W / 2, y: p.y + 19, 'text-anchor': 'middle', class: on && dark(n.state) ? 'node-label light' : 'node-label' }, n.state),
      s('title', {}, labelOf(n.state)),
    );
  });
  return s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'the device lifecycle, drawn from the machine, with the path this device took', class: 'lifecycle' },
    s('defs', {}, marker('arrow', '#bbbbbb'), marker('arrow-on', INK.cursor)),
    ...edges.filter((e): e is SVGElement => e !== null),
    ...nodes,
  );
}

const dark = (state: string) => ['needsReboot', 'rolledBack', 'verified', 'retired', 'failed'].includes(state);

function marker(id: string, colour: string): SVGElement {
  return s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0 0L10 5L0 10z', fill: colour }));
}

export const lifecycleLegend = (): HTMLElement => h('p', { class: 'note' }, 'Blue, thick: the transitions this device took (hover for how often); filled: the states it was in. Every transition the machine allows is drawn.');
