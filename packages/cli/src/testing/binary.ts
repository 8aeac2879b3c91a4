/** Test helper: the built binary run as a process to its end. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const exec = promisify(execFile);

/** `hotpatch …argv` as a process (dist/bin.js): exit code, stdout, stderr. */
export async function hotpatchBinary(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...argv]);
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}
