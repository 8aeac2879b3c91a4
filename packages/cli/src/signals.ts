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

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs a long synchronous computation (a model check's search) with the stop signals left to Node's default, which
 * ends the process at once: a listener of ours runs only once the event loop is free, so Ctrl-C or a SIGTERM would
 * wait for the whole search (minutes on a large fleet). Nothing is being written meanwhile, so nothing is left half.
 * A signal that came just before is answered first: one turn of the event loop runs its listener (which stops the
 * command), where taking the listeners away at once would leave it to run after the search.
 */
export async function stoppableAtOnce<T>(compute: () => T): Promise<T> {
  await new Promise<void>((resume) => setImmediate(resume));
  const saved = STOP_SIGNALS.map((signal) => [signal, process.listeners(signal)] as const);
  for (const [signal, listeners] of saved) for (const listener of listeners) process.removeListener(signal, listener);
  try {
    return compute();
  } finally {
    for (const [signal, listeners] of saved) for (const listener of listeners) process.on(signal, listener);
  }
}
