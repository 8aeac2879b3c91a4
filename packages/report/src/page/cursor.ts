/**
 * The time cursor: pick a time (a slider, or typed) and every device shows its state then — the answer of
 * `replay --at`, looked up in the bands replay's fold gave. Counts per ring and state, and the devices, as tables.
 */
import type { ReportData, RingLane } from '../model.js';
import { deviceCell, h, table } from './dom.js';
import { labelOf } from './palette.js';
import { isoOf, offsetOf, stateAt } from './time.js';

const SLIDER_STEPS = 1000;
const LISTED = 500;

export interface Cursor {
  readonly element: HTMLElement;
  set(t: number): void;
}

export function cursorPanel(data: ReportData, lanes: readonly RingLane[], onMove: (t: number) => void): Cursor {
  const [from, to] = data.window;
  const slider = h('input', { type: 'range', id: 'cursor-slider', min: 0, max: SLIDER_STEPS, value: SLIDER_STEPS, 'aria-label': 'time cursor (arrow keys move it, Page Up/Down faster)' });
  const input = h('input', { type: 'text', id: 'cursor-time', size: 24, spellcheck: 'false', 'aria-label': 'time (ISO-8601 UTC)' });
  const filter = h('input', { type: 'search', id: 'cursor-filter', placeholder: 'filter devices', 'aria-label': 'filter the devices by id or state' });
  const message = h('p', { class: 'note', role: 'status' });
  const counts = h('div', { id: 'cursor-counts' });
  const devices = h('div', { id: 'cursor-devices' });
  let current = to;
  const render = () => {
    const per = lanes.map((lane) => {
      const n = data.states.map(() => 0);
      let none = 0;
      for (const d of lane.devices) {
        const st = stateAt(d.steps, current);
        if (st < 0) none++;
        else n[st]!++;
      }
      return { lane, n, none };
    });
    const shown = data.states.map((_, i) => i).filter((i) => per.some((p) => p.n[i]! > 0));
    counts.replaceChildren(
      table(
        `Devices per state at ${isoOf(data, current)}`,
        ['ring', ...shown.map((i) => labelOf(data.states[i]!)), 'no events yet'],
        per.map((p) => [p.lane.ring, ...shown.map((i) => p.n[i]!), p.none]),
      ),
    );
    const needle = filter.value.trim().toLowerCase();
    const rows: Array<[string, string, string]> = [];
    let matched = 0;
    for (const lane of lanes) {
      for (const d of lane.devices) {
        const st = stateAt(d.steps, current);
        const state = st < 0 ? '(no events yet)' : data.states[st]!;
        if (needle && !d.id.toLowerCase().includes(needle) && !state.toLowerCase().includes(needle)) continue;
        matched++;
        if (rows.length < LISTED) rows.push([d.id, lane.ring, state]);
      }
    }
    devices.replaceChildren(
      table(`Each device's state at ${isoOf(data, current)}${matched > LISTED ? ` (the first ${LISTED} of ${matched}; filter to see others)` : ''}`, ['device', 'ring', 'state'], rows.map(([id, ring, state]) => [deviceCell(id), ring, state]), (i) => ({ 'data-device': rows[i]![0], 'data-state': rows[i]![2] })),
    );
  };
  const set = (t: number) => {
    current = Math.min(Math.max(t, from), to);
    input.value = isoOf(data, current);
    slider.value = String(Math.round(((current - from) / Math.max(1, to - from)) * SLIDER_STEPS));
    message.textContent = '';
    render();
    onMove(current);
  };
  slider.addEventListener('input', () => set(from + (Number(slider.value) / SLIDER_STEPS) * (to - from)));
  const form = h('form', { class: 'cursor-form' }, h('label', { for: 'cursor-time' }, 'Time '), input, h('button', { type: 'submit' }, 'Show states then'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const t = offsetOf(data, input.value.trim());
    if (Number.isNaN(t)) message.textContent = `not a time: ${input.value} (ISO-8601 UTC, like ${isoOf(data, from)})`;
    else set(t);
  });
  filter.addEventListener('input', render);
  set(to);
  return {
    set,
    element: h('section', { id: 'cursor', 'aria-labelledby': 'cursor-h' }, h('h2', { id: 'cursor-h', tabindex: -1 }, 'Time cursor'), h('p', {}, 'Every device’s state at the time picked: the answer of hotpatch replay --at.'), slider, form, message, counts, filter, devices),
  };
}
