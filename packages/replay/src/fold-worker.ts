/** The entry point of a worker thread that folds one shard of a timeline file (see fold-shards.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { foldShard, type ShardJob, type ShardReply } from './fold-shards.js';

const port = parentPort;
if (port !== null) {
  foldShard(workerData as ShardJob).then(
    (reply) => port.postMessage(reply),
    (error: unknown) => port.postMessage({ ok: false, reason: error instanceof Error ? error.message : String(error) } satisfies ShardReply),
  );
}
