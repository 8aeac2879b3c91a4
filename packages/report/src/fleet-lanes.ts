/** Every device of the fleet by ring (its ring in the projection at the end), with its band in the window. */
import type { LogCollector } from './collect.js';
import type { RingLane } from './model.js';

export function fleetLanes(collector: LogCollector, rings?: readonly string[]): RingLane[] {
  const members = new Map<string, string[]>((rings ?? []).map((r) => [r, []]));
  for (const d of collector.projection.devices.values()) {
    if (d.state.value === 'unenrolled') continue;
    let list = members.get(d.ring);
    if (list === undefined) {
      if (rings !== undefined) continue;
      list = [];
      members.set(d.ring, list);
    }
    list.push(d.id);
  }
  return [...members].map(([ring, ids]) => ({ ring, devices: ids.sort().map((id) => ({ id, steps: collector.band(id) })) }));
}
