import { appliedPatches, deviceIdOf, type DeviceState, type MachineState } from '@hotpatch/core';

/** What replay reports about one device: the shape of `hotpatch replay --json`. */
export interface DeviceView {
  readonly device: string;
  readonly state: string;
  readonly baseline: string | null;
  /** Active hotpatches, sorted. */
  readonly patches: string[];
  /** The patch in flight, or null. */
  readonly inFlight: string | null;
  /** The stream's version after the last event folded. */
  readonly version: number;
  /** The time of the last event folded. */
  readonly time: string;
}

export interface StreamState {
  readonly stream: string;
  /** A device's or a rollout's state, by the stream's kind. */
  readonly state: MachineState<string, object>;
  readonly version: number;
  readonly time: string;
  /** The hash of the last event folded, when events carry hashes. */
  readonly hash?: string | undefined;
}

export function toDeviceView(s: StreamState): DeviceView {
  const state = s.state as DeviceState;
  return {
    device: deviceIdOf(s.stream) ?? s.stream,
    state: state.value,
    baseline: state.context.baseline,
    patches: appliedPatches(state.context),
    inFlight: state.context.inFlight?.patch ?? null,
    version: s.version,
    time: s.time,
  };
}
