/**
 * fast-check arbitraries for whole events of every kind and type, typed by the TypeScript types alone (not derived
 * from the schemas, so that a test can hold the schemas' compiled checks against them). Test-only.
 */
import fc from 'fast-check';
import type { DeviceEvent, DeviceEventBody } from '../device/events.js';
import type { HotpatchEvent } from '../events.js';
import type { RingEvent, RingEventBody } from '../ring/events.js';
import type { RingPolicy, RolloutEvent, RolloutEventBody } from '../rollout/events.js';
import type { SealEvent, SealEventBody } from '../seal/events.js';

const word = fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/);
const text = fc.string({ maxLength: 20 });
const nat = fc.nat({ max: 1000 });
export const isoTime = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const party = fc.constantFrom('service' as const, 'tenant' as const);

export const ringPolicy: fc.Arbitrary<RingPolicy> = fc.record({
  name: word,
  deferralDays: fc.integer({ min: 0, max: 3650 }),
  budget: fc.oneof(fc.record({ count: nat }), fc.record({ percent: fc.double({ min: 0, max: 100, noNaN: true }) })),
  gate: fc.record({ minVerifiedShare: fc.double({ min: 0, max: 1, noNaN: true }), maxFailureRate: fc.double({ min: 0, max: 1, noNaN: true }), minSoakHours: fc.integer({ min: 0, max: 87_600 }) }),
  deadlineDays: fc.integer({ min: 0, max: 3650 }),
});
export const rings: fc.Arbitrary<RingPolicy[]> = fc.uniqueArray(ringPolicy, { minLength: 1, maxLength: 4, selector: (r) => r.name });

const deviceBody: fc.Arbitrary<DeviceEventBody> = fc.oneof(
  fc.record({ edition: word, build: word, arch: fc.constantFrom('x64' as const, 'arm64' as const), vbs: fc.boolean(), tpm2: fc.boolean(), secureBoot: fc.boolean(), chpeDisabled: fc.boolean(), ring: word, baseline: word }).map((data) => ({ type: 'DeviceEnrolled' as const, data })),
  fc.record({ eligible: fc.boolean(), reasons: fc.array(word, { maxLength: 3 }) }).map((data) => ({ type: 'EligibilityAssessed' as const, data })),
  fc.record({ patch: word, baseline: word, requires: fc.array(word, { maxLength: 3 }), liveRevert: fc.boolean() }).map((data) => ({ type: 'PatchStaged' as const, data })),
  fc.constantFrom('PatchApplyStarted' as const, 'PatchApplied' as const, 'PatchVerified' as const, 'PatchRolledBack' as const).chain((type) => word.map((patch) => ({ type, data: { patch } }))),
  fc.constantFrom('PatchApplyFailed' as const, 'RollbackStarted' as const, 'RollbackFailed' as const).chain((type) => fc.record({ patch: word, reason: text }).map((data) => ({ type, data }))),
  fc.record({ patch: word, signal: text }).map((data) => ({ type: 'HealthCheckFailed' as const, data })),
  fc.record({ reason: word, baseline: word }, { requiredKeys: ['reason'] }).map((data) => ({ type: 'RebootRequired' as const, data })),
  word.map((baseline) => ({ type: 'BaselineInstalled' as const, data: { baseline } })),
  fc.constant({ type: 'DeviceRetired' as const, data: {} }),
);

const rolloutBody: fc.Arbitrary<RolloutEventBody> = fc.oneof(
  fc
    .record(
      { release: word, releaseKind: fc.constantFrom('hotpatch' as const, 'baseline' as const), releasedAt: isoTime, liveRevert: fc.boolean(), outOfBand: fc.boolean(), rings, baseline: word, requires: fc.array(word, { maxLength: 2 }), rebootReason: word, cumulativeUpdate: word, deferralsFrom: isoTime },
      { requiredKeys: ['release', 'releaseKind', 'releasedAt', 'liveRevert', 'outOfBand', 'rings'] },
    )
    .map((data) => ({ type: 'RolloutPlanned' as const, data })),
  fc.record({ ring: word, at: isoTime, devices: nat }).map((data) => ({ type: 'RingStarted' as const, data })),
  fc.record({ ring: word, device: word, action: fc.constantFrom('hotpatch' as const, 'reboot' as const) }).map((data) => ({ type: 'DeviceInstructed' as const, data })),
  fc.record({ ring: word, device: word }).map((data) => ({ type: 'DeviceSucceeded' as const, data })),
  fc.record({ ring: word, device: word, reason: fc.constantFrom('apply-failed' as const, 'health-failed' as const, 'timeout' as const, 'rollback-failed' as const) }).map((data) => ({ type: 'DeviceFailed' as const, data })),
  fc.record({ ring: word, device: word, reason: text, instructed: fc.boolean() }).map((data) => ({ type: 'DeviceSetAside' as const, data })),
  fc.record({ ring: word, at: isoTime }).map((data) => ({ type: 'GatePassed' as const, data })),
  fc.record({ by: party, reason: text }).map((data) => ({ type: 'RolloutPaused' as const, data })),
  party.map((by) => ({ type: 'RolloutResumed' as const, data: { by } })),
  fc.record({ reason: word, at: isoTime }).map((data) => ({ type: 'RolloutHalted' as const, data })),
);

const ringBody: fc.Arbitrary<RingEventBody> = fc.oneof(
  fc.record({ by: party, reason: text }).map((data) => ({ type: 'RingPaused' as const, data })),
  party.map((by) => ({ type: 'RingResumed' as const, data: { by } })),
);

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const sealBody: fc.Arbitrary<SealEventBody> = fc
  .record({
    sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    position: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    streams: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    events: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    digest: hex64,
    algorithm: fc.constant('ed25519' as const),
    keyId: hex64,
    signature: fc.uint8Array({ minLength: 64, maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  })
  .map((data) => ({ type: 'LogSealed' as const, data }));

/** The envelope of an event: any lower-case UUID, version, time, metadata, position and hash, each optional one or not. */
const envelope = fc.record(
  {
    id: fc.uuid().map((id) => id.toLowerCase()),
    version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    time: isoTime,
    meta: fc.dictionary(word, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
    position: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    hash: fc.stringMatching(/^[0-9a-f]{64}$/),
  },
  { requiredKeys: ['id', 'version', 'time'] },
);

const inStream = <B extends { readonly type: string; readonly data: unknown }>(kind: string, body: fc.Arbitrary<B>) =>
  fc.tuple(envelope, word, body).map(([e, id, b]) => ({ ...e, stream: `${kind}/${id}`, ...b }));

/** Any well-formed event of the log. */
const deviceEvent: fc.Arbitrary<DeviceEvent> = inStream('device', deviceBody);
const rolloutEvent: fc.Arbitrary<RolloutEvent> = inStream('rollout', rolloutBody);
const ringEvent: fc.Arbitrary<RingEvent> = inStream('ring', ringBody);
const sealEvent: fc.Arbitrary<SealEvent> = inStream('seal', sealBody);
export const anyEvent: fc.Arbitrary<HotpatchEvent> = fc.oneof(deviceEvent, rolloutEvent, ringEvent, sealEvent);
