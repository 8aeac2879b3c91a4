/** A device on the report's time axis: its band (replay's fold) and its events as `history --device` gives them. */
import type { HistoryStep } from '@hotpatch/replay';
import type { LogCollector } from './collect.js';
import type { DeviceSection } from './model.js';

export function deviceSection(id: string, history: readonly HistoryStep[], collector: LogCollector): DeviceSection {
  const { base } = collector.window;
  return {
    id,
    ring: collector.projection.devices.get(id)?.ring ?? null,
    band: { id, steps: collector.band(id) },
    history: history.map((s) => ({
      position: s.position,
      t: Date.parse(s.event.time) - base,
      time: s.event.time,
      event: s.event.type,
      before: s.before?.state ?? null,
      after: s.after.state,
      data: s.event.data === undefined ? '' : JSON.stringify(s.event.data),
    })),
  };
}
