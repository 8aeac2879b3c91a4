// An exclusive consumer process for the takeover test: runs the BUILT package. Prints "started" once subscribed
// (it may then wait for the lock), then "event <position>" for each event it handles, after `delayMs`.
// SIGTERM stops it cleanly. Usage: node consumer.mjs <url> <schema> <consumer> <delayMs> <lockRetryMs>
import { createPostgresEventStore } from '../dist/index.js';

const [connectionString, schema, consumer, delayArg, retryArg] = process.argv.slice(2);
const delayMs = Number(delayArg);
const store = await createPostgresEventStore({ connectionString, schema, max: 2 });
const sub = store.subscribe(
  consumer,
  async (event) => {
    if (delayMs > 0) await new Promise((ok) => setTimeout(ok, delayMs));
    process.stdout.write(`event ${event.position}\n`);
  },
  { exclusive: true, lockRetryMs: Number(retryArg), batchSize: 5, pollIntervalMs: 20 },
);
process.stdout.write('started\n');
process.on('SIGTERM', async () => {
  await sub.stop();
  await store.close();
  process.exit(0);
});
sub.done.catch((error) => {
  process.stderr.write(`consumer failed: ${error}\n`);
  process.exit(1);
});
