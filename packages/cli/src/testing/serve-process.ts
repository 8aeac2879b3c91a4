/** Test helpers: `hotpatch serve` as a child process (dist/bin.js), and waiting for a condition with a deadline. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface ServeProcess {
  readonly child: ChildProcess;
  /** The address, once it listens; rejected when it exits before. */
  readonly listening: Promise<string>;
  readonly exited: Promise<number | null>;
  err(): string;
  out(): string;
}

/** `hotpatch serve …args` in `cwd`, its standard output (pino's lines) and error kept. */
export function serveProcess(cwd: string, args: readonly string[]): ServeProcess {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`serve exited before listening: ${err}`)));
  });
  return { child, listening, exited, err: () => err, out: () => out };
}

/** Probes every 200 ms until it gives a value; past `ms`, fails naming what was awaited (and `why()`: logs, say). */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>, why: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}${why() ? `\n${why()}` : ''}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}
