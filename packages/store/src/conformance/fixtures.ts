/** What the conformance suite's topics share: the store under test, its events, and names and ids unique to the run. */
import { deviceStream } from '@hotpatch/core';
import type { EventStore, NewEvent, RecordedEvent } from '../index.js';

export interface StoreUnderTest {
  readonly store: EventStore;
  /** Opens a second handle on the same log (another process would), where the store is durable. */
  reopen?(): Promise<EventStore>;
  /** An event read from the store as the log holds it, where the store gives it otherwise (a tenant's view: its full name and stored id, what its hash covers). */
  asStored?(event: RecordedEvent): RecordedEvent;
  /** A tenant's view of a store (scopeStore): it holds the tenant's streams only, none of the service's (seals, tokens). */
  readonly tenantView?: boolean;
  /** Releases what the store holds (connections, files). */
  cleanup(): Promise<void>;
}

/** The store of the test running now: opened before each test (see describeEventStoreConformance). */
export interface Suite {
  readonly sut: StoreUnderTest;
  readonly store: EventStore;
}

const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
let counter = 0;
/** A number not given before in this run. */
export const next = () => ++counter;
export const uuid = () => `0193f2a0-0000-7000-8000-${next().toString(16).padStart(12, '0')}`;
export const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 8, minute)).toISOString();

export const events = {
  enrolled: (baseline = 'B1', id = uuid()): NewEvent => ({ id, type: 'DeviceEnrolled', time: at(0), data: { ...profile, ring: 'pilot', baseline } }),
  assessed: (eligible = true, id = uuid(), reasons: string[] = []): NewEvent => ({ id, type: 'EligibilityAssessed', time: at(1), data: { eligible, reasons } }),
  staged: (patch = 'P1', baseline = 'B1', id = uuid()): NewEvent => ({ id, type: 'PatchStaged', time: at(2), data: { patch, baseline, requires: [], liveRevert: true } }),
};
/** A device stream of its own for a test. */
export const fresh = (name: string) => deviceStream(`${name}-${next()}`);
