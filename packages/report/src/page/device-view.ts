/** A device: its state band over time, its events as `history` gives them, and its path through the lifecycle. */
import type { DeviceSection, ReportData } from '../model.js';
import { h, table } from './dom.js';
import { lanesChart, type LanesChart } from './lanes.js';
import { lifecycleChart, lifecycleLegend } from './lifecycle.js';
import { labelOf } from './palette.js';

export function deviceView(data: ReportData, d: DeviceSection): { element: HTMLElement; lanes: LanesChart } {
  const lanes = lanesChart(data, [{ ring: d.ring ?? 'device', devices: [d.band] }], null, `${d.id}: its state over time`);
  const path = d.history.map((r) => [r.before ?? data.lifecycle.initial, r.after] as const);
  const last = d.history.at(-1);
  return {
    lanes,
    element: h(
      'section',
      { id: 'device', 'aria-labelledby': 'device-h' },
      h('h2', { id: 'device-h', tabindex: -1 }, `Device ${d.id}`),
      h('p', { class: 'summary' }, `Ring ${d.ring ?? '-'}; ${d.history.length} events; now `, h('strong', {}, last ? labelOf(last.after) : '-'), '.'),
      h('h3', {}, 'State over time'),
      lanes.element,
      h('h3', {}, 'Its path through the lifecycle'),
      lifecycleChart(data.lifecycle, path),
      lifecycleLegend(),
      h('h3', {}, 'Every event, with the state before and after (as hotpatch history gives them)'),
      table(
        `${d.id}: its events`,
        ['position', 'time', 'event', 'state before → after', 'data'],
        d.history.map((r) => [r.position, r.time, r.event, `${r.before ?? '(none)'} → ${r.after}`, r.data]),
        (i) => ({ 'data-position': d.history[i]!.position }),
      ),
    ),
  };
}
