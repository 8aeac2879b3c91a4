/**
 * Turns per stream, within one engine: a command that lost a version conflict waits for its turn before it reads
 * and decides again, so that callers of one process competing for one stream (500 assessments of one device at
 * once) go one after the other instead of all reading the same version again and all but one losing again, until
 * their attempts run out. Correctness never depends on it (the store's expected version does that): a turn held
 * longer than `maxHoldMs` (its holder waiting on something that waits for the next in line) lets the next one go.
 */
export interface Turns {
  /** Waits for the stream's turn; the function given back ends it. */
  take(stream: string): Promise<() => void>;
}

export function createTurns(maxHoldMs: number): Turns {
  /** Per stream: when the last one in line is done with its turn. */
  const tails = new Map<string, Promise<void>>();
  return {
    async take(stream) {
      const before = tails.get(stream) ?? Promise.resolve();
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      // The turn is over when its holder ends it, or `maxHoldMs` after it began.
      const over = before.then(() => {
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, maxHoldMs);
          timer.unref();
        });
        return Promise.race([released, expired]).finally(() => clearTimeout(timer));
      });
      tails.set(stream, over);
      void over.then(() => {
        if (tails.get(stream) === over) tails.delete(stream);
      });
      await before;
      return release;
    },
  };
}
