/** Given/when/then specifications of the snapshot-then-fold the durable stores share. */
import { describe, expect, it } from 'vitest';
import { initialStateFor, lifecycleFor, type MachineState } from '@hotpatch/core';
import { snapshotFold, type StoredSnapshot } from './snapshot-fold.js';
import type { RecordedEvent } from './types.js';

type State = MachineState<string, object>;
const stream = 'device/d1';
const time = '2026-01-05T08:00:00.000Z';
const recorded = (version: number, type: string, data: object): RecordedEvent =>
  ({ id: `0193f2a0-0000-7000-8000-00000000000${version}`, stream, version, type, time, data, position: version, hash: `h${version}` }) as RecordedEvent;
const history = [
  recorded(1, 'DeviceEnrolled', { edition: 'E3', build: '1', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B1' }),
  recorded(2, 'EligibilityAssessed', { eligible: true, reasons: [] }),
  recorded(3, 'PatchStaged', { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true }),
];
const stateAt = (version: number): State => history.slice(0, version).reduce((s, e) => lifecycleFor(stream).evolve(s, e), initialStateFor(stream));

// As the SQLite store keeps it: the state as JSON text, the rows as its own shape (here: the event and a row number).
const fold = snapshotFold<string, { readonly event: RecordedEvent }>({ machineOf: () => 'this machine', parse: (text) => JSON.parse(text) as State, toEvent: (row) => row.event });
const snapshot = (version: number, machine = 'this machine'): StoredSnapshot<string> => ({ version, machine, state: JSON.stringify(stateAt(version)) });

const given = (stored: StoredSnapshot<string> | undefined) => ({
  whenReadAt: (version: number) => {
    const after = fold.startAfter(stream, version, stored);
    const read = fold.fold(stream, version, stored, history.slice(after, version).map((event) => ({ event })));
    return {
      then: (expected: { readonly startAfter: number; readonly eventsFolded: number; readonly snapshotAt: number }) => {
        expect(after).toBe(expected.startAfter);
        expect(read).toEqual({ stream, version, state: stateAt(version), snapshotVersion: expected.startAfter, eventsFolded: expected.eventsFolded, snapshotAt: expected.snapshotAt });
      },
    };
  },
});

describe('snapshotFold', () => {
  it('without a snapshot, folds every event from the initial state', () => {
    given(undefined).whenReadAt(3).then({ startAfter: 0, eventsFolded: 3, snapshotAt: 0 });
  });

  it('a stream without events is in its initial state', () => {
    given(undefined).whenReadAt(0).then({ startAfter: 0, eventsFolded: 0, snapshotAt: 0 });
  });

  it('starts from a snapshot this machine folded, and folds only the events after it', () => {
    given(snapshot(2)).whenReadAt(3).then({ startAfter: 2, eventsFolded: 1, snapshotAt: 2 });
  });

  it('a snapshot at the version read is the state: nothing folded', () => {
    given(snapshot(3)).whenReadAt(3).then({ startAfter: 3, eventsFolded: 0, snapshotAt: 3 });
  });

  it('ignores a snapshot another machine definition folded, and says where it is (to be rewritten)', () => {
    given(snapshot(2, 'another machine')).whenReadAt(3).then({ startAfter: 0, eventsFolded: 3, snapshotAt: 2 });
  });

  it('ignores a snapshot past the version read', () => {
    given(snapshot(3)).whenReadAt(2).then({ startAfter: 0, eventsFolded: 2, snapshotAt: 3 });
  });
});
