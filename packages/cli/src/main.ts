import { HotpatchError } from '@hotpatch/core';
import { CheckFailed, UsageError, type CommandSpec, type Output } from './args.js';
import { demoCommand } from './commands/demo.js';
import { historyCommand } from './commands/history.js';
import { replayCommand } from './commands/replay.js';
import { verifyCommand } from './commands/verify.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { checkCommand } from './commands/check.js';
import { statusCommand } from './commands/status.js';
import { simulateCommand } from './commands/simulate.js';
import { whatifCommand } from './commands/whatif.js';
import { pauseCommand, resumeCommand } from './commands/pause.js';

export const COMMANDS: readonly CommandSpec[] = [demoCommand, replayCommand, historyCommand, verifyCommand, exportCommand, importCommand, checkCommand, statusCommand, pauseCommand, resumeCommand, simulateCommand, whatifCommand];

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'hotpatch — event-sourced bookkeeping for rebootless security patching of device fleets',
    '',
    'Usage: hotpatch <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "hotpatch <command> --help" for a command\'s options.',
    'Exit codes: 0 success, 1 invalid input or a failed check, 2 usage error.',
  ].join('\n');
}

/** Runs the CLI with arguments; returns the exit code. Never calls process.exit, so tests can run it in-process. */
export async function main(argv: readonly string[], io: Output): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainUsage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`hotpatch: unknown command "${name}"\n\n${mainUsage()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return EXIT.ok;
  }
  try {
    await command.run(rest, io);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`hotpatch ${command.name}: ${error.message}\n\nUsage: ${command.usage}`);
      return EXIT.usage;
    }
    if (error instanceof CheckFailed || error instanceof HotpatchError) {
      io.err(`hotpatch ${command.name}: ${error.message}`);
      return EXIT.failed;
    }
    throw error;
  }
}

/** Runs the CLI in-process and captures what it prints: for tests, and for tools that embed the CLI. */
export async function runCaptured(argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text + '\n'),
  err: (text) => process.stderr.write(text + '\n'),
  isTTY: Boolean(process.stdout.isTTY),
};
