/** The CLI's tests over real stores: a temporary directory with the demo's database and timeline. Test-only. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../main.js';

export interface DemoFixture {
  /** The temporary directory (the demo's output is in `demo/` under it). */
  readonly dir: string;
  /** The demo's SQLite database and its exported timeline. */
  readonly db: string;
  readonly timeline: string;
  /** Runs the CLI in this process, capturing its output. */
  readonly cli: (...argv: string[]) => ReturnType<typeof runCaptured>;
  /** Writes the demo (`hotpatch demo --devices 25`); fails with its output when it does not exit 0. */
  readonly setUp: () => Promise<void>;
  readonly cleanUp: () => Promise<void>;
}

export async function demoFixture(prefix: string): Promise<DemoFixture> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const demoDir = join(dir, 'demo');
  const cli = (...argv: string[]) => runCaptured(argv);
  return {
    dir,
    db: join(demoDir, 'hotpatch.db'),
    timeline: join(demoDir, 'events.jsonl'),
    cli,
    async setUp() {
      const r = await cli('demo', '--devices', '25', '--out', demoDir);
      if (r.code !== 0) throw new Error(`hotpatch demo exited ${r.code}: ${r.err}`);
    },
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}
