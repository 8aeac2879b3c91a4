/**
 * Orchestrator instances for the concurrency tests: one in this process, or one in a process of its own over a SQLite
 * file (test/instance.mjs, the built packages), where its waits for the file's write lock hold up no one else.
 * Test-only: not built nor published.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Orchestrator } from '../api.js';
import type { FleetPolicy } from '../../policy.js';
import { callOn, together, type Call, type Outcome } from './concurrency.js';

export interface Instance {
  readonly name: string;
  /** Makes the calls all at once; their answers, in call order (every call must be answered). */
  run(calls: readonly Call[]): Promise<Outcome[]>;
  /** Its projection after it read the log again, serialised. */
  projection(): Promise<string[]>;
  close(): Promise<void>;
}

export const inProcess = (name: string, o: Orchestrator): Instance => ({
  name,
  run: (calls) => together(calls.map((call) => () => callOn(o, call))),
  projection: async () => (await o.sync(), o.projection.serialize()),
  close: async () => {},
});

const script = join(dirname(fileURLToPath(import.meta.url)), '../../../test/instance.mjs');

/** An instance in a child process over the SQLite file at `path`, its clock standing at `now`, `name` its meta.instance; ready once it has read the log. */
export async function inChildProcess(name: string, path: string, now: string, policy: FleetPolicy): Promise<Instance> {
  const child = spawn(process.execPath, [script, path, now, JSON.stringify(policy), name], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error(`${name} exited with code ${await exited}`);
    return line.value;
  };
  expect(await next()).toBe('ready');
  const ask = async (line: string) => (child.stdin!.write(`${line}\n`), JSON.parse(await next()) as unknown);
  return {
    name,
    run: async (calls) => {
      const answers = (await ask(JSON.stringify(calls))) as Array<{ ok: true; value: Outcome } | { ok: false; error: string }>;
      const refused = answers.flatMap((a, i) => (a.ok ? [] : [`call ${i}: ${a.error}`]));
      expect(refused, `${name}: ${refused.length} of ${calls.length} calls rejected`).toEqual([]);
      return answers.map((a) => (a as { value: Outcome }).value);
    },
    projection: async () => (await ask('projection')) as string[],
    close: async () => {
      child.stdin!.end();
      expect(await exited).toBe(0);
    },
  };
}
