import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterEach, describe, it } from 'vitest';
import { RELEASE, threadedHarness } from './testing/report-thread.js';
import { issueToken } from './tokens.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

for (const thread of [true, false, true]) {
  it(`stalls, thread ${thread}`, async () => {
    const devices = Array.from({ length: 400 }, (_, i) => `s${i}`);
    const s = await threadedHarness(thread, devices);
    closing.push(s.close);
    const h = s.h;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    let stop = false;
    const writes: number[] = [];
    const writer = (async () => {
      while (!stop) {
        const t = performance.now();
        const p = h.store.appendToStream(`token/${randomUUID().slice(0, 16).replace(/-/g, 'a')}`, [{ id: randomUUID(), type: 'TokenIssued', time: new Date().toISOString(), data: { role: 'auditor', hash: 'a'.repeat(64) } }], { expectedVersion: 'no_stream' });
        writes.push(performance.now() - t);
        await p.catch((e) => console.log('append failed', e.code ?? e.message));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const t0 = performance.now();
    const rs = await Promise.all(devices.map((device) => h.call('POST', '/v1/reports', { token: s.agents.get(device)!, body: { id: randomUUID(), kind: 'applied', device, patch: RELEASE.id } })));
    const took = performance.now() - t0;
    stop = true;
    await writer;
    loop.disable();
    writes.sort((a, b) => a - b);
    console.log(JSON.stringify({ thread, ok: rs.filter((r) => r.status === 200).length, took: Math.round(took), loopMaxMs: Math.round(loop.max / 1e6), loopP99: Math.round(loop.percentile(99) / 1e6), writes: writes.length, writeMax: Math.round(writes.at(-1)!), writeP50: +writes[writes.length >> 1]!.toFixed(2) }));
  });
}
