/** Given/when/then specifications of the device agent: a device's events, the answers, the reports it sends. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deviceLifecycle, type DeviceEventBody, type DeviceState } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import type { AgentReport } from '@hotpatch/fleet';
import { deviceAgent, type AnswerSource, type Delivery, type ReportBody } from './agent.js';
import { ORDINARY_OUTCOMES, scriptedAnswers } from './scripted-answers.js';

const NOW = Date.parse('2026-02-10T18:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Ids that say what they name: device, version, the moment decided, the report. */
const reportId: AnswerSource['reportId'] = (d, now, report) => `${d.id}@${d.version}|${now - NOW}|${report.kind}`;

const given = (...events: DeviceEventBody[]) => ({
  when: (script: Partial<AnswerSource>, delivery?: Delivery) => {
    const state = events.reduce((s, e) => deviceLifecycle.evolve(s, e) as DeviceState, deviceLifecycle.initial as DeviceState);
    const sent: Array<[at: number, report: AgentReport]> = [];
    const asked: string[] = [];
    // The steps the agent asks about are noted: a step it must not ask about shows.
    const source = scriptedAnswers({ ...script, reportId });
    const noted: AnswerSource = {
      apply: (d, patch) => (asked.push('apply'), source.apply(d, patch)),
      health: (d, patch) => (asked.push('health'), source.health(d, patch)),
      rollback: (d, patch) => (asked.push('rollback'), source.rollback(d, patch)),
      restart: (d, baseline, reason) => (asked.push('restart'), source.restart(d, baseline, reason)),
      reportId,
    };
    deviceAgent(noted, delivery)({ id: 'd1', version: events.length, state }, NOW, (at, report) => sent.push([at, report]));
    return {
      then: (expected: Array<[after: number, report: ReportBody]>) =>
        expect(sent).toEqual(expected.map(([after, r]) => [NOW + after, { ...r, id: reportId({ id: 'd1', version: events.length, state }, NOW, r), device: 'd1' }])),
      thenAsked: (steps: string[]) => expect(asked).toEqual(steps),
    };
  },
});

const enrolled: DeviceEventBody = { type: 'DeviceEnrolled', data: { ...eligibleProfile, ring: 'pilot', baseline: 'B1' } };
const eligible: DeviceEventBody = { type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } };
const staged: DeviceEventBody = { type: 'PatchStaged', data: { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true } };
const applying = [enrolled, eligible, staged, { type: 'PatchApplyStarted', data: { patch: 'P1' } } as DeviceEventBody];
const applied = [...applying, { type: 'PatchApplied', data: { patch: 'P1' } } as DeviceEventBody];
const rollingBack = [...applied, { type: 'HealthCheckFailed', data: { patch: 'P1', signal: 'crash' } } as DeviceEventBody, { type: 'RollbackStarted', data: { patch: 'P1', reason: 'unwell' } } as DeviceEventBody];
const restarting = (reason: string, baseline: string): DeviceEventBody[] => [enrolled, eligible, { type: 'RebootRequired', data: { reason, baseline } }];

describe('the device agent', () => {
  it('reports an apply as the answer says: applied, failed, or nothing when it stalls', () => {
    given(...applying).when({ apply: () => ({ kind: 'applied', after: 7 * MINUTE }) }).then([[7 * MINUTE, { kind: 'applied', patch: 'P1' }]]);
    given(...applying)
      .when({ apply: () => ({ kind: 'apply-failed', after: 3 * MINUTE, reason: 'did not converge' }) })
      .then([[3 * MINUTE, { kind: 'apply-failed', patch: 'P1', reason: 'did not converge' }]]);
    given(...applying).when({ apply: () => ({ kind: 'stalled' }) }).then([]);
  });

  it('sends a health report that overtakes the apply report first, at its own time', () => {
    given(...applying)
      .when({ apply: () => ({ kind: 'applied', after: 25 * MINUTE, healthFirst: { healthy: false, after: 10 * MINUTE, signal: 'crash' } }) })
      .then([
        [10 * MINUTE, { kind: 'health', patch: 'P1', healthy: false, signal: 'crash' }],
        [25 * MINUTE, { kind: 'applied', patch: 'P1' }],
      ]);
  });

  it('reports health with the signal only when unwell', () => {
    given(...applied).when({ health: () => ({ healthy: true, after: HOUR, signal: 'ignored' }) }).then([[HOUR, { kind: 'health', patch: 'P1', healthy: true }]]);
    given(...applied).when({ health: () => ({ healthy: false, after: HOUR, signal: 'crash' }) }).then([[HOUR, { kind: 'health', patch: 'P1', healthy: false, signal: 'crash' }]]);
  });

  it('reports a rollback done, or failed with the reason', () => {
    given(...rollingBack).when({ rollback: () => ({ ok: true, after: MINUTE, reason: '' }) }).then([[MINUTE, { kind: 'rolled-back', patch: 'P1' }]]);
    given(...rollingBack)
      .when({ rollback: () => ({ ok: false, after: MINUTE, reason: 'on a stack' }) })
      .then([[MINUTE, { kind: 'rollback-failed', patch: 'P1', reason: 'on a stack' }]]);
  });

  it('reports the restart: the baseline the device was told to install, the downtime, unwell when it is', () => {
    given(...restarting('baseline', 'B2'))
      .when({ restart: () => ({ after: 5 * HOUR, downtimeMinutes: 20 }) })
      .then([[5 * HOUR, { kind: 'baseline-installed', baseline: 'B2', meta: { downtimeMinutes: 20 } }]]);
    given(...restarting('baseline', 'B2'))
      .when({ restart: () => ({ after: HOUR, healthy: false, signal: 'crash' }) })
      .then([[HOUR, { kind: 'baseline-installed', baseline: 'B2', healthy: false, signal: 'crash' }]]);
  });

  it('takes going back to the update before as well, whatever the answer says', () => {
    given(...restarting('update-uninstall', 'B0'))
      .when({ restart: () => ({ after: HOUR, healthy: false, signal: 'crash' }) })
      .then([[HOUR, { kind: 'baseline-installed', baseline: 'B0' }]]);
  });

  it('asks nothing of a device at rest', () => {
    given(enrolled, eligible).when({}).thenAsked([]);
    given(...applied).when({}).thenAsked(['health']);
  });

  it('sends through the delivery: lost, late or twice as it decides', () => {
    const twiceAnHourLate: Delivery = (_, at, report, send) => {
      send(at + HOUR, report);
      send(at + HOUR + MINUTE, report);
    };
    given(...applying)
      .when({ apply: () => ({ kind: 'applied', after: MINUTE }) }, twiceAnHourLate)
      .then([
        [HOUR + MINUTE, { kind: 'applied', patch: 'P1' }],
        [HOUR + 2 * MINUTE, { kind: 'applied', patch: 'P1' }],
      ]);
    given(...applying).when({}, () => {}).then([]);
  });

  it('answers a step no script gives the ordinary way', () => {
    given(...applying).when({}).then([[ORDINARY_OUTCOMES.applyMinutes * MINUTE, { kind: 'applied', patch: 'P1' }]]);
    given(...restarting('baseline', 'B2'))
      .when({})
      .then([[ORDINARY_OUTCOMES.restartHours * HOUR, { kind: 'baseline-installed', baseline: 'B2', meta: { downtimeMinutes: ORDINARY_OUTCOMES.downtimeMinutes } }]]);
  });
});

describe('the agent’s modules', () => {
  it('import types only: fleet’s tests load them by path, and must not load the simulator (fleet cannot depend on it)', () => {
    for (const file of ['agent.ts', 'scripted-answers.ts']) {
      const imports = readFileSync(new URL(file, import.meta.url), 'utf8').match(/^import .*$/gm) ?? [];
      expect(imports.length, file).toBeGreaterThan(0);
      for (const line of imports) expect(line, file).toMatch(/^import type /);
    }
  });
});
