/**
 * A child process with the bench's probe (probe.mjs, loaded with `--import`), for the bench and the soak: its
 * standard error read for the probe's `probe {…}` lines (each answers the oldest `probe()` asked), the `sql …` lines
 * (HOTPATCH_PROBE_SQL=1, passed on to this process's standard error) and whatever `ready` looks for.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const probeModule = join(dirname(fileURLToPath(import.meta.url)), 'probe.mjs');

/**
 * Spawns `node [...nodeArgs] --import probe.mjs ...argv` in `cwd`; resolves once `ready(stderr so far)` gives a value,
 * with that value and `probe()` (the probe's figures: SIGUSR2), `exit` (its exit code) and `stop()` (SIGTERM, then
 * the exit code). Rejects if it exits before.
 */
export function probedChild({ nodeArgs = [], argv, cwd, env = process.env, ready }) {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', probeModule, ...argv], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env });
  const exit = new Promise((ok) => proc.once('exit', (code) => ok(code)));
  const waiting = [];
  let err = '';
  let started = false;
  return new Promise((ok, fail) => {
    proc.stderr.on('data', (d) => {
      err += d;
      for (let m; (m = /^probe (\{.*\})\n/m.exec(err)); ) {
        err = err.slice(0, m.index) + err.slice(m.index + m[0].length);
        waiting.shift()?.(JSON.parse(m[1]));
      }
      for (let m; (m = /^sql .*\n/m.exec(err)); ) {
        err = err.slice(0, m.index) + err.slice(m.index + m[0].length);
        process.stderr.write(m[0]);
      }
      const found = started ? undefined : ready(err);
      if (found !== undefined) {
        started = true;
        ok({
          ...found,
          exit,
          probe: () => new Promise((got) => (waiting.push(got), proc.kill('SIGUSR2'))),
          stop: () => (proc.kill('SIGTERM'), exit),
        });
      }
    });
    proc.once('exit', (code) => fail(new Error(`exited (${code}) before it was ready: ${err}`)));
  });
}
