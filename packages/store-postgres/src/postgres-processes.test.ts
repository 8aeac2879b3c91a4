/**
 * What only real processes can show, against a real server (HOTPATCH_TEST_POSTGRES_URL): migrations racing from
 * several processes, and an exclusive consumer handed over from a process killed with SIGKILL to the next one.
 * The child processes run the built package.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { events } from '@hotpatch/store/conformance';
import { createPostgresEventStore } from './postgres-store.js';
import { MIGRATIONS } from './migrations.js';
import { admin, dropAll, newSchema, url } from '../test/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const dist = join(root, 'packages/store-postgres/dist/index.js');
const consumerScript = join(here, '../test/consumer.mjs');
const run = promisify(execFile);

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A consumer process and what it printed so far. */
function startConsumer(schema: string, consumer: string, delayMs: number, lockRetryMs: number) {
  const child = spawn(process.execPath, [consumerScript, url!, schema, consumer, String(delayMs), String(lockRetryMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen = { started: false, events: [] as number[] };
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (line === 'started') seen.started = true;
      else if (line.startsWith('event ')) seen.events.push(Number(line.slice(6)));
    }
  });
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  return { child, seen, exited };
}

describe.skipIf(!url)('PostgreSQL with real processes', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await dropAll();
  });

  it('migrations are safe from several processes opening a new schema at once', async () => {
    const schema = newSchema();
    const script = `import { createPostgresEventStore } from ${JSON.stringify(dist)}; const s = await createPostgresEventStore({ connectionString: ${JSON.stringify(url)}, schema: ${JSON.stringify(schema)} }); await s.close();`;
    await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', script])));
    expect((await admin().query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it('an exclusive consumer: a second instance waits, takes over when the first is killed, and goes on from the checkpoint without skipping', async () => {
    const schema = newSchema();
    const store = await createPostgresEventStore({ connectionString: url!, schema });
    for (let i = 0; i < 20; i++) await store.appendToStream(`device/x-${i}`, [events.enrolled(), ...Array.from({ length: 9 }, () => events.assessed())]);
    const total = 200;

    const a = startConsumer(schema, 'exclusive', 20, 100);
    children.push(a.child);
    await until('the first consumer to handle 40 events', () => a.seen.events.length >= 40);
    const b = startConsumer(schema, 'exclusive', 10, 300);
    children.push(b.child);
    await until('the second consumer to start', () => b.seen.started);
    // It waits for the lock while the first goes on.
    await sleep(800);
    const handledByA = a.seen.events.length;
    expect(b.seen.events).toEqual([]);
    expect(handledByA).toBeLessThan(total);

    a.child.kill('SIGKILL');
    await a.exited;
    // The first handled 1…n in order; its checkpoint (moved after each batch) is at or before n.
    const lastOfA = a.seen.events.at(-1)!;
    expect(a.seen.events).toEqual(range(1, lastOfA));
    const checkpoint = await store.readCheckpoint('exclusive');
    expect(checkpoint).toBeGreaterThan(0);
    expect(checkpoint).toBeLessThanOrEqual(lastOfA);

    // The second takes over from that checkpoint: what the first handled after it comes again (at least once),
    // and nothing is skipped.
    await until('the second consumer to reach the end', () => b.seen.events.at(-1) === total);
    expect(b.seen.events).toEqual(range(checkpoint + 1, total));

    // And it follows new events.
    const r = await store.appendToStream('device/x-0', [events.assessed(), events.assessed()]);
    await until('the second consumer to handle the new events', () => b.seen.events.at(-1) === r.positions[1]);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(await store.readCheckpoint('exclusive')).toBe(r.positions[1]);
    await store.close();
  });
});
