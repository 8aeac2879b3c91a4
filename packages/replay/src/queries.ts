/** The questions an incident responder asks of a timeline. */
import { deviceIdOf, deviceStream, idOfStream, ringStream, rolloutStream, type HotpatchEvent, type RingState } from '@hotpatch/core';
import { toDeviceView, type DeviceView, type StreamState } from './device-view.js';
import { toRolloutView, type RolloutView } from './rollout-view.js';
import { foldFile } from './fold-file.js';
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

/** One event of a stream's history, with the stream's state (as a view) before and after it. */
export interface StreamHistoryStep<TView> {
  /** The event's line (or position) in the timeline. */
  readonly position: number;
  readonly event: HotpatchEvent;
  readonly before: TView | null;
  readonly after: TView;
}
export type HistoryStep = StreamHistoryStep<DeviceView>;
export type RolloutHistoryStep = StreamHistoryStep<RolloutView>;

/** A ring's pauses as replay reports them: open or paused, and who holds it paused and why. */
export interface RingPauseView {
  readonly ring: string;
  readonly state: RingState['value'];
  readonly holds: RingState['context']['holds'];
  readonly version: number;
  readonly time: string;
}
export type RingHistoryStep = StreamHistoryStep<RingPauseView>;
const toRingPauseView = (s: StreamState): RingPauseView => {
  const state = s.state as RingState;
  return { ring: idOfStream('ring', s.stream) ?? s.stream, state: state.value, holds: state.context.holds, version: s.version, time: s.time };
};

/** The states one stream went through, event by event, each seen through `view`. */
function streamHistory<TView>(input: FoldInput, stream: string, view: (s: StreamState) => TView, until: ReplayPoint): Array<StreamHistoryStep<TView>> {
  const steps: Array<StreamHistoryStep<TView>> = [];
  foldTimeline(input, {
    until,
    stream,
    onStep: (event, before, after, index) => steps.push({ position: positionOf(input, index), event, before: before ? view(before) : null, after: view(after) }),
  });
  return steps;
}

/**
 * The same, read from a timeline file as it is folded (line by line, one stream kept): the file is never held
 * whole. The first invalid line or refused event is thrown, naming its line; reading stops at the replay point.
 */
async function streamHistoryOfFile<TView>(path: string, stream: string, view: (s: StreamState) => TView, until: ReplayPoint, options: FileHistoryOptions): Promise<Array<StreamHistoryStep<TView>>> {
  const steps: Array<StreamHistoryStep<TView>> = [];
  const folded = await foldFile(path, {
    until,
    stream,
    onStep: (event, before, after, index, line) => steps.push({ position: event.position ?? line ?? index + 1, event, before: before ? view(before) : null, after: view(after) }),
  });
  if (!folded.hashed && folded.folded > 0) options.unhashed?.();
  return steps;
}

export interface FileHistoryOptions {
  /** Called when the file carries no hashes: its events were not checked against them (a reader says so). */
  readonly unhashed?: () => void;
}

/** deviceHistory, rolloutHistory and ringHistory of a timeline file, read as it is folded (see streamHistoryOfFile). */
export const historyOfFile = {
  device: (path: string, device: string, until: ReplayPoint = { kind: 'end' }, options: FileHistoryOptions = {}): Promise<HistoryStep[]> => streamHistoryOfFile(path, deviceStream(device), toDeviceView, until, options),
  rollout: (path: string, rollout: string, until: ReplayPoint = { kind: 'end' }, options: FileHistoryOptions = {}): Promise<RolloutHistoryStep[]> => streamHistoryOfFile(path, rolloutStream(rollout), toRolloutView, until, options),
  ring: (path: string, ring: string, until: ReplayPoint = { kind: 'end' }, options: FileHistoryOptions = {}): Promise<RingHistoryStep[]> => streamHistoryOfFile(path, ringStream(ring), toRingPauseView, until, options),
};

/** The sequence of states one device went through, event by event. */
export function deviceHistory(input: FoldInput, device: string, until: ReplayPoint = { kind: 'end' }): HistoryStep[] {
  return streamHistory(input, deviceStream(device), toDeviceView, until);
}

/** The sequence of states one rollout went through, event by event: why it halted, paused or waited. */
export function rolloutHistory(input: FoldInput, rollout: string, until: ReplayPoint = { kind: 'end' }): RolloutHistoryStep[] {
  return streamHistory(input, rolloutStream(rollout), toRolloutView, until);
}

/** The pauses and resumes of one ring (whatever the release), event by event: who held it paused, when and why. */
export function ringHistory(input: FoldInput, ring: string, until: ReplayPoint = { kind: 'end' }): RingHistoryStep[] {
  return streamHistory(input, ringStream(ring), toRingPauseView, until);
}
