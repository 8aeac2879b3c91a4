/**
 * `readState`'s head reads outside a batch, gathered: the reads asked in one turn of the event loop share one
 * statement (a row each, in the order asked) instead of a round trip each. A service asks one at every request (its
 * token's stream, so that a revocation is seen at once, on every instance); under load, the requests read in one turn
 * are many, and each round trip costs both processes their system calls and PostgreSQL a statement. Each read is
 * still the log's answer at the moment of the statement, which is sent at the end of the turn it was asked in.
 */
import type { MachineState } from '@hotpatch/core';
import type { Pool, QueryConfig } from 'pg';

/** A stream's head and snapshot, as `stateHead` reads it (the snapshot's state left out when the reader has it). */
export interface HeadRow {
  readonly version: number | null;
  readonly hash: string | null;
  readonly snapshot_version: number | null;
  readonly machine: string | null;
  readonly state: MachineState<string, object> | null;
}

/** At most this many reads in one statement; more asked in one turn go in several. */
const MOST = 500;

type Asked = { readonly stream: string; readonly version: number | null; readonly hash: string | null; readonly ok: (row: HeadRow) => void; readonly fail: (error: unknown) => void };

export function gatheredHeads(pool: Pool, sql: { readonly stateHead: QueryConfig; readonly stateHeads: QueryConfig }) {
  let asked: Asked[] | undefined;
  const send = (reads: Asked[]) => {
    const [one] = reads;
    const sent =
      reads.length === 1
        ? pool.query<HeadRow>({ ...sql.stateHead, values: [one!.stream, one!.version, one!.hash] })
        : pool.query<HeadRow>({ ...sql.stateHeads, values: [reads.map((r) => r.stream), reads.map((r) => r.version), reads.map((r) => r.hash)] });
    sent.then(
      ({ rows }) => reads.forEach((r, i) => r.ok(rows[i]!)),
      (error: unknown) => reads.forEach((r) => r.fail(error)),
    );
  };
  /** The head of `stream`, the snapshot's state left out if it is still at `known` (the reader's kept head). */
  return (stream: string, known: { readonly version: number; readonly hash: string } | undefined): Promise<HeadRow> =>
    new Promise<HeadRow>((ok, fail) => {
      if (asked === undefined) {
        const reads: Asked[] = (asked = []);
        setImmediate(() => {
          asked = undefined;
          // A name PostgreSQL cannot take (a NUL) never gets here: readState answers it first (statements.ts's unheld).
          for (let i = 0; i < reads.length; i += MOST) send(reads.slice(i, i + MOST));
        });
      }
      asked.push({ stream, version: known?.version ?? null, hash: known?.hash ?? null, ok, fail });
    });
}
