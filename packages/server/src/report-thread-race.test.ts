/**
 * The report thread as a second writer racing the serving thread's ticks (every 3 ms): 100 devices' applies (some
 * failing), health reports (some not healthy) and roll-backs sent at once. No report is a server error, no device is
 * given two outcomes, none is instructed twice.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { closedAfterEach, RELEASE, threadedHarness, wholeLog } from './testing/report-thread.js';

const all = wholeLog;
const closing = closedAfterEach();

for (const seed of [2, 3]) {
  it(`reports with failures racing ticks in the report thread (seed ${seed})`, async () => {
    const thread = true;
    let x = seed * 7919;
    const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const devices = Array.from({ length: 100 }, (_, i) => `r${i}`);
    const s = await threadedHarness(thread, devices);
    closing.push(s.close);
    let stop = false;
    const ticks = (async () => {
      while (!stop) {
        await s.h.app.hotpatch.tickOnce();
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    const send = (device: string, body: Record<string, unknown>) => s.h.call('POST', '/v1/reports', { token: s.agents.get(device)!, body: { id: randomUUID(), device, patch: RELEASE.id, ...body } });
    const first = await Promise.all(devices.map((d) => (rnd() < 0.08 ? send(d, { kind: 'apply-failed', reason: 'E' }) : send(d, { kind: 'applied' }))));
    const second = await Promise.all(devices.map((d) => (rnd() < 0.1 ? send(d, { kind: 'health', healthy: false, signal: 'crash' }) : send(d, { kind: 'health', healthy: true }))));
    // then whatever the halts asked for: rolled-back reports for everyone
    const third = await Promise.all(devices.map((d) => send(d, { kind: 'rolled-back' })));
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await ticks;
    const tally: Record<string, number> = {};
    for (const r of [...first, ...second, ...third]) tally[`${r.status} ${r.body.code ?? r.body.status}`] = (tally[`${r.status} ${r.body.code ?? r.body.status}`] ?? 0) + 1;
    const log = await all(s.h.store);
    const roll = log.filter((e) => e.stream === `rollout/${RELEASE.id}`);
    const outcomes = new Map<string, number>();
    const instructed = new Map<string, number>();
    for (const e of roll) {
      const d = (e.data as { device?: string }).device;
      if (d === undefined) continue;
      if (e.type === 'DeviceSucceeded' || e.type === 'DeviceFailed') outcomes.set(d, (outcomes.get(d) ?? 0) + 1);
      if (e.type === 'DeviceInstructed') instructed.set(d, (instructed.get(d) ?? 0) + 1);
    }
    const types: Record<string, number> = {};
    for (const e of roll) types[e.type] = (types[e.type] ?? 0) + 1;
    const devTypes: Record<string, number> = {};
    for (const e of log) if (e.stream.startsWith('device/')) devTypes[e.type] = (devTypes[e.type] ?? 0) + 1;
    expect(Object.keys(tally).filter((k) => k.startsWith('5'))).toEqual([]);
    expect([...outcomes].filter(([, n]) => n > 1)).toEqual([]);
    expect([...instructed].filter(([, n]) => n > 1)).toEqual([]);
    // The race ran: devices were instructed and decided.
    expect(types.DeviceInstructed ?? 0).toBeGreaterThan(0);
    expect(Object.keys(devTypes).length).toBeGreaterThan(1);
  });
}
