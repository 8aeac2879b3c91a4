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
