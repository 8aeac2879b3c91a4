import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that does not make sense: exit code 2, with the command's usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An input that is invalid or a check that fails: exit code 1. */
export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[], io: Output): Promise<void>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** parseArgs, strict, with every mistake turned into a UsageError. */
export function parse(argv: string[], options: Options): Parsed {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }) as Parsed;
  } catch (error) {
    // Node's messages run over several lines ("…is ambiguous.\nDid you forget…"): said as one.
    throw new UsageError((error as Error).message.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' '));
  }
}

export function positiveInt(value: string | undefined, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${name}: expected a whole number ≥ 1, got ${JSON.stringify(value)}`);
  if (Number(value) > max) throw new UsageError(`${name}: at most ${max}, got ${value}`);
  return Number(value);
}

/** The longest a timer waits (Node's setTimeout: 2^31 - 1 ms, about 24.8 days; longer fires at once, every ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** `--server`: the URL of a running hotpatch serve (http or https, one that parses), for every command that calls one. */
export function serviceUrl(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || /\s/.test(value as string)) {
    throw new UsageError(`--server: expected the service's URL (http://127.0.0.1:8080), got ${JSON.stringify(value)}`);
  }
  // The routes' paths are added to it: a query or fragment would swallow them, and a user and password in a URL are
  // refused by fetch (the token is the credential).
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || /[?#]/.test(value as string)) {
    throw new UsageError(`--server: the service's address alone, without a user, a query or a fragment (http://127.0.0.1:8080), got ${JSON.stringify(url.password !== '' ? (value as string).replace(`:${url.password}@`, ':***@') : value)}`);
  }
  return value as string;
}

/** `--token`: sent as a Bearer header, so one word of printable characters (a token pasted with its line break is not). */
export function bearerToken(value: unknown, missing: string): string {
  if (typeof value !== 'string') throw new UsageError(missing);
  if (!/^[\x21-\x7e]+$/.test(value)) throw new UsageError('--token: expected a token (hp_<id>_<secret>: printable characters, no space or line break)');
  return value;
}

export function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? `missing ${what}` : `one ${what} expected, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0]!;
}

/** The largest fleet `simulate` and `demo` take: a million devices need about 14 GB for three months. */
const MAX_FLEET = 10_000_000;

/** `--devices`: a whole number from 1 to MAX_FLEET. */
export function fleetSize(value: string | undefined, fallback: number): number {
  const devices = positiveInt(value, '--devices', fallback);
  if (devices > MAX_FLEET) throw new UsageError(`--devices: at most ${MAX_FLEET.toLocaleString('en')} (a million devices need about 14 GB for three months), got ${value}`);
  return devices;
}
