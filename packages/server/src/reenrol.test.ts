/**
 * An agent enrols its device again with the same body — it restarted, or `hotpatch agents` was run again with the
 * same seed — after its device moved on (a baseline installed since). PUT /v1/devices/:id promises that a retry with
 * the same body changes nothing: it assessed the device again under the enrolment's command id, found another
 * verdict on the device as it is now, and answered 409 COMMAND_ID_REUSED.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
beforeAll(async () => (h = await startHarness()));
afterAll(() => h.close());

describe('an enrolment sent again after the device moved on', () => {
  it.each(['default', 'acme'])('is answered 200 with the device as it is, nothing written (tenant %s)', async (tenant) => {
    const agent = await h.token('agent', { tenant, device: 'd1' });
    const body = { ...PROFILE, vbs: false, ring: 'pilot', baseline: 'B-2026-01' };
    expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body })).status).toBe(201);
    // A hotpatch planned on its baseline: the ineligible device is asked to restart onto the release's baseline.
    const operator = await h.token('operator');
    const release = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: h.clock.now().toISOString(), baseline: 'B-2026-01', liveRevert: true };
    expect((await h.call('POST', '/v1/rollouts', { token: operator, body: release, headers: { 'hotpatch-tenant': tenant } })).status).toBe(201);
    await h.app.hotpatch.tickOnce();
    const instruction = await h.call('GET', '/v1/devices/d1/instructions', { token: agent });
    expect(instruction.body).toMatchObject({ state: 'needsReboot' });
    const installed = await h.call('POST', '/v1/reports', { token: agent, body: { kind: 'baseline-installed', id: randomUUID(), device: 'd1', baseline: instruction.body.baseline } });
    expect(installed.status, JSON.stringify(installed.body)).toBe(200);
    const before = (await h.store.readAll()).length;
    const again = await h.call('PUT', '/v1/devices/d1', { token: agent, body });
    expect({ status: again.status, body: again.body }).toMatchObject({ status: 200, body: { device: 'd1', enrolled: false } });
    expect((await h.store.readAll()).length).toBe(before);
  });
});
