/**
 * Model-based tests of the command layer over real stores: random command sequences on several devices, each
 * command checked against a model much simpler than the system (phases, a baseline, a set of applied patches),
 * and the stored state checked against the lifecycle invariants after every step. Races: two writers on one
 * device stream, interleaved by fast-check's scheduler. fast-check prints the seed and path of any failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandRefusedError, type DeviceCommand, type DeviceState } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { deviceStateInvariants, invariantContext } from '@hotpatch/check';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { verifyTimeline } from '@hotpatch/replay';
import { ConcurrencyExhaustedError, createEngine, type Engine } from './engine.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-model-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const CATALOG = {
  P1: { id: 'P1', baseline: 'B1', requires: [] as string[], liveRevert: true },
  P2: { id: 'P2', baseline: 'B1', requires: ['P1'], liveRevert: false },
  P3: { id: 'P3', baseline: 'B2', requires: [] as string[], liveRevert: true },
} as const;
type PatchId = keyof typeof CATALOG;
const DEVICES = ['d1', 'd2', 'd3'] as const;
const invariants = invariantContext({ name: 'model', enrolledOn: 'B1', baselines: ['B1', 'B2'], hotpatches: Object.values(CATALOG), reboots: [] });

/** The model: what a person would say about a device, nothing more. */
type Phase = 'none' | 'enrolled' | 'ineligible' | 'resting' | 'staged' | 'applying' | 'applied' | 'rollingBack' | 'needsReboot' | 'retired';
interface ModelDevice {
  phase: Phase;
  eligible: boolean;
  baseline: string;
  applied: Set<string>;
  patch: PatchId | null;
  before: Set<string>;
  /** The last verified patch, while it can still be rolled back. */
  verified: PatchId | null;
}
type Model = Record<string, ModelDevice>;
const newDevice = (): ModelDevice => ({ phase: 'none', eligible: false, baseline: '', applied: new Set(), patch: null, before: new Set(), verified: null });
const PHASE_OF: Record<string, Phase> = { unenrolled: 'none', current: 'resting', verified: 'resting', rolledBack: 'resting' };

interface Real {
  engine: Engine;
  store: EventStore;
}

/** A command, what the model says it does, and the check that the system agrees. */
abstract class DeviceCmd implements fc.AsyncCommand<Model, Real> {
  constructor(readonly device: string) {}
  abstract command(m: ModelDevice): DeviceCommand;
  /** Applies the command to the model; returns false if the model says it must be refused (model unchanged). */
  abstract apply(m: ModelDevice): boolean;
  check() {
    return true;
  }
  async run(model: Model, real: Real) {
    const m = model[this.device]!;
    const command = this.command(m);
    const versionBefore = await real.store.streamVersion(`device/${this.device}`);
    const accepted = this.apply(m);
    if (accepted) {
      await real.engine.execute(command);
    } else {
      const error = await real.engine.execute(command).then(() => undefined, (e: unknown) => e);
      expect(error, `${this.toString()} should have been refused`).toBeInstanceOf(CommandRefusedError);
      expect(await real.store.streamVersion(`device/${this.device}`)).toBe(versionBefore);
    }
    const { state } = await real.engine.load(this.device);
    compare(m, state);
    for (const inv of deviceStateInvariants) expect(inv.check(state, invariants), inv.name).toBeUndefined();
  }
  toString() {
    return `${this.constructor.name}(${this.device})`;
  }
}

function compare(m: ModelDevice, s: DeviceState) {
  const phase = PHASE_OF[s.value] ?? (s.value as Phase);
  expect(phase).toBe(m.phase);
  // A retired device's last context is kept as it was; only its phase matters.
  if (m.phase === 'none' || m.phase === 'retired') return;
  expect(s.context.baseline).toBe(m.baseline);
  expect(Object.keys(s.context.applied).sort()).toEqual([...m.applied].sort());
  expect(s.context.inFlight?.patch ?? null).toBe(['staged', 'applying', 'applied', 'rollingBack'].includes(m.phase) ? m.patch : null);
}

const resting = (m: ModelDevice) => m.phase === 'resting';
const live = (p: PatchId | null) => p !== null && CATALOG[p].liveRevert;

class Enrol extends DeviceCmd {
  command = (): DeviceCommand => ({ type: 'EnrolDevice', device: this.device, profile: eligibleProfile, ring: 'pilot', baseline: 'B1' });
  apply(m: ModelDevice) {
    if (m.phase !== 'none') return false;
    Object.assign(m, { phase: 'enrolled', baseline: 'B1' });
    return true;
  }
}
class Assess extends DeviceCmd {
  constructor(device: string, readonly eligible: boolean) {
    super(device);
  }
  // Eligible when the latest baseline is the device's own; otherwise it is behind.
  command = (m: ModelDevice): DeviceCommand => ({ type: 'AssessEligibility', device: this.device, latestBaseline: this.eligible ? m.baseline || 'B1' : 'B9' });
  apply(m: ModelDevice) {
    if (['none', 'retired', 'staged', 'applying', 'applied', 'rollingBack'].includes(m.phase)) return false;
    m.eligible = this.eligible;
    if (m.phase === 'needsReboot') return true;
    if (!this.eligible) m.phase = 'ineligible';
    else if (m.phase !== 'resting') m.phase = 'resting';
    return true;
  }
  override toString() {
    return `Assess(${this.device}, ${this.eligible})`;
  }
}
class Stage extends DeviceCmd {
  constructor(device: string, readonly patch: PatchId) {
    super(device);
  }
  command = (): DeviceCommand => ({ type: 'StagePatch', device: this.device, hotpatch: CATALOG[this.patch] });
  apply(m: ModelDevice) {
    const p = CATALOG[this.patch];
    if (!resting(m) || !m.eligible || p.baseline !== m.baseline || m.applied.has(p.id) || !p.requires.every((r) => m.applied.has(r))) return false;
    Object.assign(m, { phase: 'staged', patch: this.patch, before: new Set(m.applied), verified: null });
    return true;
  }
  override toString() {
    return `Stage(${this.device}, ${this.patch})`;
  }
}
class StartApply extends DeviceCmd {
  command = (m: ModelDevice): DeviceCommand => ({ type: 'StartApply', device: this.device, patch: m.patch ?? 'P1' });
  apply(m: ModelDevice) {
    if (m.phase !== 'staged') return false;
    m.phase = 'applying';
    return true;
  }
}
class Applied extends DeviceCmd {
  constructor(device: string, readonly ok: boolean) {
    super(device);
  }
  command = (m: ModelDevice): DeviceCommand =>
    this.ok ? { type: 'ReportApplied', device: this.device, patch: m.patch ?? 'P1' } : { type: 'ReportApplyFailed', device: this.device, patch: m.patch ?? 'P1', reason: 'stalled' };
  apply(m: ModelDevice) {
    if (m.phase !== 'applying') return false;
    if (this.ok) {
      m.phase = 'applied';
      m.applied.add(m.patch!);
    } else if (live(m.patch)) m.phase = 'rollingBack';
    else Object.assign(m, { phase: 'needsReboot', patch: null });
    return true;
  }
  override toString() {
    return `Applied(${this.device}, ${this.ok})`;
  }
}
class Health extends DeviceCmd {
  constructor(device: string, readonly healthy: boolean) {
    super(device);
  }
  command = (m: ModelDevice): DeviceCommand => ({ type: 'ReportHealth', device: this.device, patch: m.patch ?? 'P1', healthy: this.healthy, signal: 'crash' });
  apply(m: ModelDevice) {
    if (m.phase !== 'applied') return false;
    if (this.healthy) Object.assign(m, { phase: 'resting', verified: m.patch, patch: null });
    else if (live(m.patch)) m.phase = 'rollingBack';
    else Object.assign(m, { phase: 'needsReboot', patch: null });
    return true;
  }
  override toString() {
    return `Health(${this.device}, ${this.healthy})`;
  }
}
class RollBack extends DeviceCmd {
  command = (m: ModelDevice): DeviceCommand => ({ type: 'RollBack', device: this.device, patch: m.patch ?? m.verified ?? 'P1', reason: 'halt' });
  apply(m: ModelDevice) {
    if (m.phase === 'applied' && live(m.patch)) m.phase = 'rollingBack';
    else if (resting(m) && m.verified !== null && live(m.verified)) Object.assign(m, { phase: 'rollingBack', patch: m.verified, verified: null });
    else return false;
    return true;
  }
}
class RollbackOutcome extends DeviceCmd {
  constructor(device: string, readonly ok: boolean) {
    super(device);
  }
  command = (m: ModelDevice): DeviceCommand =>
    this.ok ? { type: 'ReportRolledBack', device: this.device, patch: m.patch ?? 'P1' } : { type: 'ReportRollbackFailed', device: this.device, patch: m.patch ?? 'P1', reason: 'stuck' };
  apply(m: ModelDevice) {
    if (m.phase !== 'rollingBack') return false;
    if (this.ok) Object.assign(m, { phase: 'resting', applied: new Set(m.before), patch: null });
    else Object.assign(m, { phase: 'needsReboot', patch: null });
    return true;
  }
  override toString() {
    return `RollbackOutcome(${this.device}, ${this.ok})`;
  }
}
class Reboot extends DeviceCmd {
  command = (): DeviceCommand => ({ type: 'RequireReboot', device: this.device, reason: 'baseline', baseline: 'B2' });
  apply(m: ModelDevice) {
    if (!['enrolled', 'ineligible', 'resting', 'staged', 'applied', 'needsReboot'].includes(m.phase)) return false;
    Object.assign(m, { phase: 'needsReboot', patch: null, verified: null });
    return true;
  }
}
class Install extends DeviceCmd {
  constructor(device: string, readonly baseline: string) {
    super(device);
  }
  command = (): DeviceCommand => ({ type: 'ReportBaselineInstalled', device: this.device, baseline: this.baseline });
  apply(m: ModelDevice) {
    if (m.phase !== 'needsReboot') return false;
    Object.assign(m, { phase: m.eligible ? 'resting' : 'ineligible', baseline: this.baseline, applied: new Set(), patch: null, verified: null });
    return true;
  }
  override toString() {
    return `Install(${this.device}, ${this.baseline})`;
  }
}
class Retire extends DeviceCmd {
  command = (): DeviceCommand => ({ type: 'RetireDevice', device: this.device });
  apply(m: ModelDevice) {
    if (m.phase === 'none' || m.phase === 'retired') return false;
    m.phase = 'retired';
    return true;
  }
}

/**
 * The natural next step for a device in the model's eyes, with a random outcome: it keeps sequences moving
 * through the whole lifecycle, while the other commands, picked blindly, exercise refusals.
 */
class Next implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly device: string,
    readonly choice: number,
  ) {}
  private pick(m: ModelDevice): DeviceCmd {
    const d = this.device;
    const c = this.choice;
    switch (m.phase) {
      case 'none':
        return new Enrol(d);
      case 'enrolled':
      case 'ineligible':
        return new Assess(d, c % 5 !== 0);
      case 'resting': {
        const candidates = (Object.keys(CATALOG) as PatchId[]).filter((p) => CATALOG[p].baseline === m.baseline && !m.applied.has(p));
        return candidates.length && c % 7 !== 0 ? new Stage(d, candidates[c % candidates.length]!) : c % 2 ? new Reboot(d) : new RollBack(d);
      }
      case 'staged':
        return new StartApply(d);
      case 'applying':
        return new Applied(d, c % 4 !== 0);
      case 'applied':
        return c % 6 === 0 ? new RollBack(d) : new Health(d, c % 3 !== 0);
      case 'rollingBack':
        return new RollbackOutcome(d, c % 5 !== 0);
      case 'needsReboot':
        return new Install(d, c % 2 ? 'B1' : 'B2');
      case 'retired':
        return new Retire(d);
    }
  }
  check() {
    return true;
  }
  run(model: Model, real: Real) {
    return this.pick(model[this.device]!).run(model, real);
  }
  toString() {
    return `Next(${this.device}, ${this.choice})`;
  }
}

const device = fc.constantFrom(...DEVICES);
const commands = fc.commands(
  [
    device.map((d) => new Enrol(d)),
    fc.tuple(device, fc.boolean()).map(([d, e]) => new Assess(d, e)),
    fc.tuple(device, fc.constantFrom<PatchId>('P1', 'P2', 'P3')).map(([d, p]) => new Stage(d, p)),
    device.map((d) => new StartApply(d)),
    fc.tuple(device, fc.boolean()).map(([d, ok]) => new Applied(d, ok)),
    fc.tuple(device, fc.boolean()).map(([d, ok]) => new Health(d, ok)),
    device.map((d) => new RollBack(d)),
    fc.tuple(device, fc.boolean()).map(([d, ok]) => new RollbackOutcome(d, ok)),
    device.map((d) => new Reboot(d)),
    fc.tuple(device, fc.constantFrom('B1', 'B2')).map(([d, b]) => new Install(d, b)),
    device.map((d) => new Retire(d)),
    fc.tuple(device, fc.nat({ max: 1000 })).map(([d, c]) => new Next(d, c)),
    fc.tuple(device, fc.nat({ max: 1000 })).map(([d, c]) => new Next(d, c)),
    fc.tuple(device, fc.nat({ max: 1000 })).map(([d, c]) => new Next(d, c)),
    fc.tuple(device, fc.nat({ max: 1000 })).map(([d, c]) => new Next(d, c)),
    fc.tuple(device, fc.nat({ max: 1000 })).map(([d, c]) => new Next(d, c)),
    fc.tuple(device, fc.nat({ max: 1000 })).map(([d, c]) => new Next(d, c)),
  ],
  { maxCommands: 80, size: 'max' },
);

const clock = () => new Date('2026-02-10T17:00:00.000Z');
const stores: Record<string, () => EventStore> = {
  'in-memory': () => createInMemoryEventStore(),
  SQLite: () => openSqliteEventStore({ path: join(dir, `model-${Math.random().toString(36).slice(2)}.db`), durability: 'normal' }),
};

describe.each(Object.entries(stores))('command layer against the model, on the %s store', (_name, open) => {
  it('agrees with the model and keeps every invariant after every command', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const store = open();
        try {
          const model: Model = Object.fromEntries(DEVICES.map((d) => [d, newDevice()]));
          const real = { engine: createEngine({ store, clock }), store };
          // Two devices start enrolled and eligible on B1, so that sequences get far; the third starts from nothing.
          for (const d of ['d1', 'd2']) {
            for (const cmd of [new Enrol(d), new Assess(d, true)]) await cmd.run(model, real);
          }
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          // And the log as a whole verifies: versions, ids, hashes, transitions.
          expect(verifyTimeline({ events: await store.readAll() }).problems).toEqual([]);
        } finally {
          await store.close();
        }
      }),
      { numRuns: _name === 'SQLite' ? 60 : 150, seed: 1124 },
    );
  });
});

describe('two writers on one device stream, interleaved by the scheduler', () => {
  const storeCalls = (store: EventStore, s: fc.Scheduler): EventStore => ({
    ...store,
    readState: s.scheduleFunction(store.readState.bind(store)),
    appendToStream: s.scheduleFunction(store.appendToStream.bind(store)),
    readStream: s.scheduleFunction(store.readStream.bind(store)),
  });
  const command = fc.oneof(
    fc.constant<DeviceCommand>({ type: 'AssessEligibility', device: 'd1', latestBaseline: 'B1' }),
    fc.constantFrom<PatchId>('P1', 'P2', 'P3').map<DeviceCommand>((p) => ({ type: 'StagePatch', device: 'd1', hotpatch: CATALOG[p] })),
    fc.constant<DeviceCommand>({ type: 'StartApply', device: 'd1', patch: 'P1' }),
    fc.constant<DeviceCommand>({ type: 'ReportApplied', device: 'd1', patch: 'P1' }),
    fc.constant<DeviceCommand>({ type: 'RequireReboot', device: 'd1', reason: 'baseline', baseline: 'B2' }),
    fc.constant<DeviceCommand>({ type: 'ReportBaselineInstalled', device: 'd1', baseline: 'B1' }),
  );

  it('loses no update, stores no invalid state, and refuses only with typed errors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(command, { minLength: 1, maxLength: 6 }), fc.array(command, { minLength: 1, maxLength: 6 }), async (s, first, second) => {
        const store = createInMemoryEventStore();
        const setup = createEngine({ store, clock });
        await setup.execute({ type: 'EnrolDevice', device: 'd1', profile: eligibleProfile, ring: 'pilot', baseline: 'B1' });
        await setup.execute({ type: 'AssessEligibility', device: 'd1', latestBaseline: 'B1' });
        const writers = [first, second].map((cmds) => {
          const engine = createEngine({ store: storeCalls(store, s), clock, maxAttempts: 20 });
          return (async () => {
            const recorded: string[] = [];
            for (const cmd of cmds) {
              try {
                const r = await engine.execute(cmd);
                recorded.push(...r.events.map((e) => e.id));
              } catch (error) {
                if (!(error instanceof CommandRefusedError) && !(error instanceof ConcurrencyExhaustedError)) throw error;
              }
            }
            return recorded;
          })();
        });
        await s.waitFor(Promise.all(writers));
        const ids = (await Promise.all(writers)).flat();
        const log = await store.readStream('device/d1');
        // Every acknowledged event is in the log, once; the log verifies and its state keeps every invariant.
        const logged = new Set(log.map((e) => e.id));
        for (const id of ids) expect(logged.has(id)).toBe(true);
        expect(logged.size).toBe(log.length);
        expect(verifyTimeline({ events: log }).problems).toEqual([]);
        const { state } = await setup.load('d1');
        for (const inv of deviceStateInvariants) expect(inv.check(state, invariants), inv.name).toBeUndefined();
      }),
      { numRuns: 200, seed: 1124 },
    );
  });
});
