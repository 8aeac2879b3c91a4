/** Time, passed in: the system clock in a service, a simulated one in tests, simulations and replays. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface SimulatedClock extends Clock {
  /** Moves to `iso` if it is later than now. */
  jumpTo(iso: string): void;
  /** Moves forward by `seconds`. */
  advance(seconds: number): void;
}

export function simulatedClock(startIso: string): SimulatedClock {
  let ms = Date.parse(startIso);
  return {
    now: () => new Date(ms),
    jumpTo: (iso) => {
      ms = Math.max(ms, Date.parse(iso));
    },
    advance: (seconds) => {
      ms += Math.round(seconds * 1000);
    },
  };
}

/**
 * The system clock run `speed` times faster from `from` (ms since the epoch, default now): a service started with
 * `--speed 3600` lives an hour each second, so that a person can watch a rollout move; at speed 1 it is the system
 * clock. It reads `at` (default `from`) at `from`: a service started again on a log its earlier run wrote goes on
 * from the log's latest time, not back to the real time. It never goes back while the system clock does not.
 */
export function acceleratedClock(speed: number, from: number = Date.now(), realNow: () => number = Date.now, at: number = from): Clock {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed: expected a finite number > 0, got ${speed}`);
  return { now: () => new Date(at + Math.round((realNow() - from) * speed)) };
}
