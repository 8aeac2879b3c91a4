/**
 * What a stop signal (SIGINT, SIGTERM) does: by default the CLI stops at once (bin.ts); a command that stops in
 * order (`serve`: finish what is in flight, save its checkpoint) takes the signals over while it runs.
 */
type Stop = (signal: NodeJS.Signals) => void;
let taken: Stop | undefined;

export function takeStopSignals(stop: Stop): () => void {
  taken = stop;
  return () => {
    if (taken === stop) taken = undefined;
  };
}

/** The command's stop, when one took the signals over. */
export const stopHandler = (): Stop | undefined => taken;
