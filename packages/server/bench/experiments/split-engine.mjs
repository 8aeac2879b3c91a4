/**
 * EXPERIMENT (not a feature): the engine half of split-serve.mjs: the store and the service (the orchestrator, no
 * ticks), answering reports: the token's check (unless the caller checked it: no `auth`), the device's binding, the
 * orchestrator's decision and its commit. In a worker thread (`worker_threads`), or inline (`openEngine`).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

export async function openEngine({ cli, server, store: source, policy }) {
  const { openEventStore, parseStoreSource } = await import(`${cli}/store-source.js`);
  const { readPolicyFile } = await import(`${cli}/commands/simulate.js`);
  const { HotpatchService, authenticate } = await import(server);
  const store = await openEventStore(parseStoreSource(source), { stateCacheSize: 250_000 });
  const service = await HotpatchService.open({ store, policy: await readPolicyFile(policy), tickIntervalMs: 0 });
  const tenant = service.defaultTenant;
  return {
    report: (m) =>
      (m.auth === undefined ? Promise.resolve({ role: 'agent', device: m.device }) : authenticate(service.store, m.auth)).then((c) => {
        if (c.role !== 'agent' || c.device !== m.report.device) throw Object.assign(new Error('not this device'), { code: 'DEVICE_NOT_ALLOWED' });
        return tenant.orchestrator.report(m.report, { checked: true });
      }),
    stop: () => service.stop().then(() => store.close?.()),
  };
}

if (!isMainThread && workerData?.splitEngine) {
  const engine = await openEngine(workerData);
  parentPort.on('message', (m) => {
    if (m === 'stop') return void engine.stop().then(() => parentPort.postMessage('stopped'));
    engine.report(m).then(
      (result) => parentPort.postMessage({ id: m.id, result }),
      (error) => parentPort.postMessage({ id: m.id, error: { name: error?.name, message: error?.message, code: error?.code } }),
    );
  });
  parentPort.postMessage('ready');
}
