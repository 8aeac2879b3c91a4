/** The questions an incident responder asks of a timeline. */
import { deviceIdOf, deviceStream, type HotpatchEvent } from '@hotpatch/core';
import { toDeviceView, type DeviceView, type StreamState } from './device-view.js';
import { foldTimeline, positionOf, type FoldInput, type ReplayPoint } from './fold.js';

/** Every device's state at a point (default: the end), sorted by device id. */
export function fleetAt(input: FoldInput, until: ReplayPoint = { kind: 'end' }): DeviceView[] {
  return fleetOf(foldTimeline(input, { until }).streams);
}

/** The devices among folded streams (see foldTimeline, foldFile), sorted by device id. */
export function fleetOf(streams: ReadonlyMap<string, StreamState>): DeviceView[] {
  const views: DeviceView[] = [];
  for (const s of streams.values()) if (deviceIdOf(s.stream) !== undefined) views.push(toDeviceView(s));
  return views.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
}

/** One device's state at a point; undefined when the device has no event by then. */
export function deviceAt(input: FoldInput, device: string, until: ReplayPoint = { kind: 'end' }): DeviceView | undefined {
  const stream = deviceStream(device);
  const { streams } = foldTimeline(input, { until, stream });
  const s = streams.get(stream);
  return s && toDeviceView(s);
}

export interface HistoryStep {
  /** The event's line (or position) in the timeline. */
  readonly position: number;
  readonly event: HotpatchEvent;
  readonly before: DeviceView | null;
  readonly after: DeviceView;
}

/** The sequence of states one device went through, event by event. */
export function deviceHistory(input: FoldInput, device: string, until: ReplayPoint = { kind: 'end' }): HistoryStep[] {
  const steps: HistoryStep[] = [];
  foldTimeline(input, {
    until,
    stream: deviceStream(device),
    onStep: (event, before, after, index) =>
      steps.push({ position: positionOf(input, index), event, before: before ? toDeviceView(before) : null, after: toDeviceView(after) }),
  });
  return steps;
}
