#!/usr/bin/env node
/**
 * EXPERIMENT (not a feature): would a second thread lift `hotpatch serve`'s reports/s on a 2-core machine? HTTP,
 * Fastify and the report's schema check on the main thread; the token's check, the report's decision and the commit
 * in a worker (split-engine.mjs) that owns the store. Only POST /v1/reports; the store and fleet as
 * server.bench.mjs prepares them. Called as the bench calls `hotpatch serve`:
 *
 *   node packages/server/bench/server.bench.mjs --only sqlite --serve-args="|--bin=packages/server/bench/experiments/split-serve.mjs"
 *
 * --auth-main: the token checked on the main thread, over a second connection to the store.
 * --inline: no worker, the same code on one thread (the like-for-like baseline).
 */
import { Worker } from 'node:worker_threads';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../../..');
const cli = join(root, 'packages/cli/dist');
const serverModule = join(root, 'packages/server/dist/index.js');
const { values } = parseArgs({ args: process.argv.slice(3), options: { store: { type: 'string' }, port: { type: 'string' }, 'tick-ms': { type: 'string' }, policy: { type: 'string' }, inline: { type: 'boolean' }, 'auth-main': { type: 'boolean' } } });
const { default: Fastify } = await import(join(root, 'packages/server/node_modules/fastify/fastify.js'));
const { validatorCompiler, serializerCompiler, authenticate } = await import(serverModule);
const { ServiceReportSchema } = await import(join(root, 'packages/server/dist/schemas.js'));
const authOnMain = values['auth-main'] === true;
let mainStore;
if (authOnMain) {
  const { openEventStore, parseStoreSource } = await import(`${cli}/store-source.js`);
  mainStore = await openEventStore(parseStoreSource(values.store), { stateCacheSize: 250_000 });
}
const engineData = { cli, server: serverModule, store: values.store, policy: values.policy };
const inline = values.inline === true ? await (await import('./split-engine.mjs')).openEngine(engineData) : undefined;
let worker;
let call;
if (inline !== undefined) call = (message) => inline.report(message);
else {
  worker = new Worker(join(here, 'split-engine.mjs'), { workerData: { ...engineData, splitEngine: true } });
  await new Promise((ok, fail) => {
    worker.once('message', ok);
    worker.once('error', fail);
  });
  const pending = new Map();
  let next = 0;
  worker.on('message', (m) => {
    if (m === 'stopped') return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p.fail(m.error);
    else p.ok(m.result);
  });
  call = (message) =>
    new Promise((ok, fail) => {
      const id = next++;
      pending.set(id, { ok, fail });
      worker.postMessage({ id, ...message });
    });
}
const app = Fastify({ logger: false, bodyLimit: 1 << 20 });
app.setValidatorCompiler(validatorCompiler);
app.setSerializerCompiler(serializerCompiler);
app.post('/v1/reports', { schema: { body: ServiceReportSchema } }, (request, reply) => {
  const report = request.body;
  const asked = authOnMain
    ? authenticate(mainStore, request.headers.authorization).then((c) => call({ device: c.device, report }))
    : call({ auth: request.headers.authorization, report });
  return asked.then(
    (result) => (result.status === 'ignored' ? reply.code(409).send({ status: 'refused', reason: result.reason }) : { status: result.status, events: result.events }),
    (error) => reply.code(error.code === 'DEVICE_NOT_ALLOWED' ? 403 : 500).send(error),
  );
});
const url = await app.listen({ host: '127.0.0.1', port: Number(values.port ?? 0) });
process.stderr.write(`listening on ${url}\n`);
process.on('SIGTERM', () =>
  app.close().then(() => {
    if (inline !== undefined) return inline.stop().then(() => process.exit(0));
    worker.postMessage('stop');
    worker.once('message', () => process.exit(0));
  }),
);
