/** A stream's state in the PostgreSQL store: its snapshot plus the events after it (snapshotFold), and readState. */
import type { MachineState } from '@hotpatch/core';
import { snapshotFold, type FoldedState, type StateCache, type StoredSnapshot, type StreamStateRead } from '@hotpatch/store';
import type { ClientBase, Pool } from 'pg';
import type { BatchReads } from './batch-read.js';
import type { Connections } from './connection.js';
import type { PostgresContext } from './context.js';
import { gatheredHeads, type HeadRow } from './state-heads.js';
import { toEvent, unheld, type EventRow } from './statements.js';

const NO_ROWS: readonly EventRow[] = [];

export interface StreamStates {
  /** The stream's state at `version` (read on `db`): its snapshot if this machine folded it, plus the events after it. */
  foldState(db: ClientBase | Pool, stream: string, version: number, snap: StoredSnapshot | undefined): Promise<FoldedState>;
  /** The stream's state as of now, for readState: rebuilds the snapshot if it had to fold. */
  read(stream: string): Promise<StreamStateRead>;
}

/**
 * `heads`: the states this store folded at recent heads (append.ts keeps them); a read whose stream is still at the
 * head its state was kept at takes it from there, the snapshot not sent (the head is read from the database every
 * time: another instance's write, a revocation, is seen at once).
 */
export function createStreamStates(ctx: PostgresContext, connections: Connections, fromBatch: BatchReads, heads: StateCache): StreamStates {
  const { sql: q, machineOf, readonly } = ctx;
  const gathered = gatheredHeads(ctx.pool, q);
  const fold = snapshotFold<MachineState<string, object>, EventRow>({ machineOf, parse: (state) => state, toEvent });

  const foldState = async (db: ClientBase | Pool, stream: string, version: number, snap: StoredSnapshot | undefined): Promise<FoldedState> => {
    const after = fold.startAfter(stream, version, snap);
    if (after >= version) return fold.fold(stream, version, snap, NO_ROWS);
    const { rows } = await db.query<never>({ ...q.readStream, values: [stream, after + 1, version, null], rowMode: 'array' });
    return fold.fold(stream, version, snap, rows as unknown as EventRow[]);
  };

  return {
    foldState,
    read: (stream) => {
      // A name PostgreSQL cannot take (a NUL) is held by no stream (an append refuses it by name): its state is that of
      // a stream without events, as in every store, not the server's refusal of the text.
      if (unheld(stream)) {
        const { snapshotAt: _, ...read } = fold.fold(stream, 0, undefined, NO_ROWS);
        return Promise.resolve(read);
      }
      return connections.onConnection('readState', stream, async (db) => {
        const known = heads.get(stream);
        // Outside a batch, with the other reads asked in this turn (state-heads.ts); in one, on its connection.
        const row = db === ctx.pool ? await gathered(stream, known) : (await db.query<HeadRow>({ ...q.stateHead, values: [stream, known?.version ?? null, known?.hash ?? null] })).rows[0]!;
        // The state kept as sent (the server leaves the snapshot's state out when the head is that one): not looked
        // up again, since another read may have evicted or replaced it while this one waited for its answer.
        const kept = known !== undefined && row.hash !== null && known.version === (row.version ?? 0) && known.hash === row.hash ? known : undefined;
        if (kept !== undefined) return { stream, version: kept.version, state: kept.state, snapshotVersion: kept.version, eventsFolded: 0 };
        const snap = row.snapshot_version !== null ? { version: row.snapshot_version, machine: row.machine!, state: row.state! } : undefined;
        const { snapshotAt, ...read } = await foldState(db, stream, row.version ?? 0, snap);
        // A snapshot from another machine definition (or an old one) is rebuilt, so the next read is O(1) again;
        // an older snapshot never overwrites a newer one.
        if (read.eventsFolded > 0 && !readonly) await db.query({ ...q.refreshSnapshot, values: [stream, read.version, machineOf(stream), JSON.stringify(read.state)] });
        if (row.hash !== null) heads.remember(stream, read.version, row.hash, read.state, read.eventsFolded > 0 ? read.version : snapshotAt);
        return read;
      }, (batch) => fromBatch.readState(batch, stream));
    },
  };
}
