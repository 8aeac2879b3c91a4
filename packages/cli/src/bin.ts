#!/usr/bin/env node
import { discardPendingFilesSync } from '@hotpatch/store';
import { EXIT, main, processOutput } from './main.js';
import { stopHandler } from './signals.js';

// Output piped into a reader that stops early (`| head`) is not an error of ours: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// Stopped by a signal: the files being replaced stay as they were (their temporary files go), and what was being
// written to a store was not committed (a transaction that never ends is rolled back); then the usual exit code.
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
  process.on(signal, () => {
    // A command that stops in order (serve) has taken the signals over: it exits once stopped. SIGHUP stays abrupt.
    const stop = signal === 'SIGHUP' ? undefined : stopHandler();
    if (stop !== undefined) return stop(signal);
    discardPendingFilesSync();
    process.stderr.write(`hotpatch: stopped by ${signal}: files it was writing left as they were, nothing uncommitted kept\n`);
    process.exit(128 + number);
  });
}

// main() answers every error itself; what reaches here is a fault in the CLI's own plumbing.
main(process.argv.slice(2), processOutput).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`hotpatch: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.internal;
  },
);
