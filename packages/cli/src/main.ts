import { readFileSync } from 'node:fs';
import { EnvironmentError, HotpatchError } from '@hotpatch/core';
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
import { reportCommand } from './commands/report.js';
import { pauseCommand, resumeCommand } from './commands/pause.js';
import { agentsCommand } from './commands/agents.js';
import { sealCommand } from './commands/seal.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';

export const COMMANDS: readonly CommandSpec[] = [demoCommand, replayCommand, historyCommand, verifyCommand, exportCommand, importCommand, checkCommand, statusCommand, pauseCommand, resumeCommand, sealCommand, simulateCommand, whatifCommand, reportCommand, serveCommand, agentsCommand, tokenCommand];

/**
 * Exit codes: 0 success; 1 invalid input or a failed check; 2 a command line that makes no sense; 3 the
 * environment failed (a file, folder or database that could not be opened, read or written: permissions, disk,
 * network), the input may be fine; 70 a fault of hotpatch itself.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, environment: 3, internal: 70 } as const;


export function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

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
    'Run "hotpatch <command> --help" (or "hotpatch help <command>") for a command\'s options; "hotpatch --version".',
    'Add --debug to any command to see the stack trace of an error.',
    'Exit codes: 0 success, 1 invalid input or a failed check, 2 usage error, 3 a file or database that could not',
    'be opened, read or written (the environment), 70 a fault of hotpatch itself.',
  ].join('\n');
}

/** The first paragraph of a command's usage: its synopsis, without the explanations. */
const synopsis = (command: CommandSpec) => command.usage.split('\n\n')[0]!;

/**
 * What an error says to whoever ran the command, in one line, and the exit code. A Node.js system error names
 * the call and the path already ("EACCES: permission denied, open 'x'"); a store's errors come typed.
 */
export function explain(error: unknown): { code: number; line: string } {
  if (error instanceof UsageError) return { code: EXIT.usage, line: error.message };
  if (error instanceof EnvironmentError) return { code: EXIT.environment, line: error.message };
  if (error instanceof CheckFailed || error instanceof HotpatchError) return { code: EXIT.failed, line: error.message };
  const e = error as { code?: unknown; syscall?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]! : String(error);
  // A Node.js system error (EACCES, ENOSPC, EROFS…: it names its call): the machine said no. The stores type what
  // their drivers say; a driver's error that reaches here untyped is a fault of ours.
  if (typeof e?.code === 'string' && typeof e.syscall === 'string') return { code: EXIT.environment, line: message };
  return { code: EXIT.internal, line: `internal error: ${message} (a fault of hotpatch: run again with --debug for the stack trace, and report it)` };
}

/** Runs the CLI with arguments; returns the exit code. Never calls process.exit, so tests can run it in-process. */
export async function main(argv: readonly string[], io: Output): Promise<number> {
  const debug = argv.includes('--debug') || process.env.HOTPATCH_DEBUG === '1';
  const args = argv.filter((a) => a !== '--debug');
  let [name, ...rest] = args;
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`hotpatch ${version()}`);
    return EXIT.ok;
  }
  if (name === 'help' && rest.length > 0) {
    const [topic, ...more] = rest;
    if (more.length > 0) {
      io.err(`hotpatch help: one command expected, got ${rest.join(' ')}\nUsage: hotpatch help <command>`);
      return EXIT.usage;
    }
    [name, rest] = [topic, ['--help']];
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(mainUsage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const near = COMMANDS.filter((c) => c.name.startsWith(name!.slice(0, 2))).map((c) => c.name);
    io.err(`hotpatch: unknown command ${JSON.stringify(name)}${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}; "hotpatch --help" lists the commands`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return EXIT.ok;
  }
  // Whether the command printed anything: asked for JSON, a failure that printed none is given as JSON too.
  let printed = false;
  const tracked: Output = { ...io, out: (text) => ((printed = true), io.out(text)) };
  try {
    await command.run(rest, tracked);
    return EXIT.ok;
  } catch (error) {
    const { code, line: said } = explain(error);
    // One line, whatever the message quotes (a file's content, an id): control characters written as escapes, so that
    // they can neither break the line nor drive the terminal.
    const line = said.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    if (rest.includes('--json') && !printed) {
      const kind = error instanceof HotpatchError ? error.code : code === EXIT.usage ? 'USAGE' : code === EXIT.failed ? 'FAILED' : code === EXIT.environment ? 'ENVIRONMENT' : 'INTERNAL';
      io.out(JSON.stringify({ ok: false, error: { code: kind, exit: code, message: line } }, null, 2));
    }
    if (code === EXIT.usage) {
      io.err(`hotpatch ${command.name}: ${line}\nUsage: ${synopsis(command)}\nRun "hotpatch ${command.name} --help" for the options.`);
      return code;
    }
    io.err(`hotpatch ${command.name}: ${line}`);
    if (debug && error instanceof Error && error.stack) io.err(error.stack);
    return code;
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
