/**
 * The service's seals in process, on the memory store: a seal after a checkpoint saved, one at stop that is in the
 * log once `stop()` returns (before whoever gave the store closes it), nothing written when nothing but seals came.
 */
import { generateKeyPairSync } from 'node:crypto';
import { sealStream } from '@hotpatch/core';
import { createInMemoryEventStore, readLogPages, SealCheck, type EventStore, type RecordedEvent } from '@hotpatch/store';
import { describe, expect, it } from 'vitest';
import { HotpatchService } from './service.js';
import { issueToken } from './tokens.js';

const key = generateKeyPairSync('ed25519');

async function logOf(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const page of readLogPages(store)) events.push(...page);
  return events;
}

async function open() {
  const store = createInMemoryEventStore();
  const lines: Array<{ msg?: string; reason?: string }> = [];
  const service = await HotpatchService.open({ store, tickIntervalMs: 0, seal: { key, everyMs: 0 } });
  service.start({ info: (obj, msg) => lines.push({ ...obj, msg }), error: (obj, msg) => lines.push({ ...obj, msg }) });
  return { store, service, lines };
}

describe('the service seals its log', () => {
  it('at stop, after the last checkpoint: the seal is in the log when stop() returns, and covers every event', async () => {
    const { store, service, lines } = await open();
    await issueToken(service.store, { role: 'operator' }, service.meta);
    await service.stop();
    const log = await logOf(store);
    const last = log.at(-1)!;
    expect(last).toMatchObject({ stream: sealStream('log'), type: 'LogSealed', data: { position: log.length - 1, sequence: 1 }, meta: { source: 'hotpatch-serve' } });
    const check = new SealCheck(key.publicKey);
    for (const e of log) check.add(e, e.position!);
    expect(check.result()).toMatchObject({ uncovered: 0, seals: [{ signature: 'valid', digest: 'matches', problems: [] }] });
    expect(lines.filter((l) => l.msg === 'log sealed').map((l) => l.reason)).toEqual(['checkpoint']);
  });

  it('after each checkpoint saved; nothing written when nothing but seals came since', async () => {
    const { store, service, lines } = await open();
    await issueToken(service.store, { role: 'operator' }, service.meta);
    await service.defaultTenant.orchestrator.saveCheckpoint();
    expect((await service.seals!.stop()).written).toBe(false);
    expect((await logOf(store)).filter((e) => e.type === 'LogSealed')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'log sealed').map((l) => l.reason)).toEqual(['checkpoint']);
  });
});
