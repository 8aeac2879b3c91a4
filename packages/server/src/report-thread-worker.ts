/**
 * The report thread's worker (see report-thread.ts): opens its own connection to the service's store, a service over
 * it that never ticks, and decides each report it is sent with the tenant's orchestrator; tells the thread that
 * serves HTTP what it appended, then the answer. On 'stop', answers what it holds, closes its store and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EventStore } from '@hotpatch/store';
import type { AgentReport } from '@hotpatch/fleet';
import { acceleratedClock } from '@hotpatch/fleet';
import { threadError, type ReportThreadData, type ReportThreadMessage } from './report-thread.js';
import { HotpatchService } from './service.js';
import { DEFAULT_TENANT } from './tenants.js';

if (parentPort === null) throw new Error('report-thread-worker runs as a worker thread (see report-thread.ts)');
const port = parentPort;
const data = workerData as ReportThreadData;
const send = (m: ReportThreadMessage) => port.postMessage(m);

let store: (EventStore & { close?(): Promise<void> | void }) | undefined;
try {
  const opener = (await import(data.openStore.module)) as { openStore(argument: unknown): Promise<EventStore & { close?(): Promise<void> | void }> };
  store = await opener.openStore(data.openStore.argument);
  const service = await HotpatchService.open({
    store,
    policy: data.policy,
    meta: data.meta,
    clock: acceleratedClock(data.clock.speed, data.clock.from, Date.now, data.clock.at),
    tickIntervalMs: 0,
    ...(data.checkpoint !== undefined ? { checkpoint: data.checkpoint } : {}),
    ...(data.idKey !== undefined ? { idKey: data.idKey } : {}),
  });
  service.changes.also({ appended: (streams, events, lastPosition, ms) => send({ kind: 'appended', streams, events, lastPosition, ms }) });
  let held = 0;
  let stopping: (() => void) | undefined;
  const settled = () => {
    held--;
    if (held === 0) stopping?.();
  };
  port.on('message', (m: 'stop' | { id: number; tenant: string; report: AgentReport }) => {
    if (m === 'stop') {
      const close = () => {
        Promise.resolve(store?.close?.())
          .catch(() => undefined)
          .finally(() => {
            send({ kind: 'stopped' });
            port.close();
          });
      };
      if (held === 0) close();
      else stopping = close;
      return;
    }
    held++;
    // The tenant the serving thread resolved from the agent's token (the proof that it exists, as Tenants.resolve takes
    // it): made at once, never looked for in the log (a service with no ticks would read the whole log for its tokens).
    service.tenants
      .resolve({ tokenId: '', role: 'agent', tenant: m.tenant === DEFAULT_TENANT ? null : m.tenant, device: m.report.device }, undefined)
      // Checked by the route against the service's schema before it was sent here.
      .then(({ tenant }) => tenant.orchestrator.report(m.report, { checked: true }))
      .then(
        (result) => send({ kind: 'answer', id: m.id, result }),
        (error: unknown) => send({ kind: 'answer', id: m.id, error: threadError(error) }),
      )
      .finally(settled);
  });
  send({ kind: 'ready' });
} catch (error) {
  send({ kind: 'failed', error: threadError(error) });
  await Promise.resolve(store?.close?.()).catch(() => undefined);
  port.close();
}
