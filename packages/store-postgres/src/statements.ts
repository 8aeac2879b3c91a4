/** The PostgreSQL store's SQL: every statement it runs (named: parsed once per connection), and rows read back as events. */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { unkept, type RecordedEvent } from '@hotpatch/store';
import { COPY_COLUMNS } from './copy-rows.js';
import { INDEX_SCAN } from './log-index.js';
import { quoteSchema } from './migrations.js';

export type EventRow = [position: string, stream: string, version: number, id: string, type: string, time: string, data: unknown, meta: Record<string, unknown> | null, hash: string];

export const toEvent = (r: EventRow): RecordedEvent =>
  ({
    id: r[3],
    stream: r[1],
    version: r[2],
    type: r[4],
    time: r[5],
    data: r[6],
    ...(r[7] !== null ? { meta: r[7] } : {}),
    position: Number(r[0]),
    hash: r[8],
  }) as RecordedEvent;

const COLUMNS = 'position, stream, version, id, type, time, data, meta, hash';

/**
 * A stream name or event id no row holds: PostgreSQL text cannot hold a NUL (the server refuses it as a parameter)
 * nor a lone surrogate (sent as U+FFFD, it would name another stream: `a\ud800` read as `a\ufffd`), and an append
 * refuses such a name or id by name before anything is sent. A read of one answers as for one absent, as every store
 * does, not with the server's refusal of the text nor with its U+FFFD twin's rows.
 */
export const unheld = (text: unknown): boolean => typeof text === 'string' && unkept(text);

/**
 * An append's one write statement (see the README's Global order), around `moved`: the statement that moves the stream's
 * head and returns a row only if it did. Parameters: $1 stream, $2 k events, $3 the version checked against,
 * $4–$9 the events' ids, types, times, data (one JSON array), meta (one JSON array, null where none) and hashes, $10 the notification channel, $11 the new version,
 * $12 the new head hash, $13 the machine fingerprint and $14 the state of the snapshot.
 */
function writeStatement(s: string, moved: string): string {
  return `WITH moved AS (${moved}),
     head AS (UPDATE ${s}.log_head SET position = position + $2 WHERE EXISTS (SELECT 1 FROM moved) RETURNING position - $2 AS base),
     inserted AS (
       INSERT INTO ${s}.events (position, stream, version, id, type, time, data, meta, hash)
       SELECT head.base + e.n, $1, $3 + e.n, e.id, e.type, e.time, e.data, CASE WHEN json_typeof(e.meta) = 'null' THEN NULL ELSE e.meta END, e.hash
       FROM head, ROWS FROM (unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), json_array_elements($7::json), json_array_elements($8::json), unnest($9::text[]))
         WITH ORDINALITY AS e (id, type, time, data, meta, hash, n)
     ),
     snapshot AS (
       INSERT INTO ${s}.snapshots (stream, version, machine, state) SELECT $1::text, $11::integer, $13::text, $14::json FROM moved
       ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state
     )
   SELECT base, pg_notify($10, (base + $2)::text) FROM head`;
}

/**
 * A batch's buffered appends in one statement: the events of many streams, each stream's new head and snapshot, and
 * the log head's new last position. Parameters: $1–$9 the events' positions, streams, versions, ids, types, times,
 * data (one JSON array), meta (one JSON array, null where none) and hashes; $10–$14 per stream: its name, version,
 * last hash, machine fingerprint and state (one JSON array); $15 the last position.
 */
function flushStatement(s: string): string {
  return `WITH inserted AS (
       INSERT INTO ${s}.events (position, stream, version, id, type, time, data, meta, hash)
       SELECT e.position, e.stream, e.version, e.id, e.type, e.time, e.data, CASE WHEN json_typeof(e.meta) = 'null' THEN NULL ELSE e.meta END, e.hash
       FROM ROWS FROM (unnest($1::bigint[]), unnest($2::text[]), unnest($3::integer[]), unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), json_array_elements($7::json), json_array_elements($8::json), unnest($9::text[]))
         AS e (position, stream, version, id, type, time, data, meta, hash)
     ),
     heads AS (
       INSERT INTO ${s}.streams (stream, version, hash) SELECT * FROM unnest($10::text[], $11::integer[], $12::text[])
       ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash
     ),
     snapshots AS (
       INSERT INTO ${s}.snapshots (stream, version, machine, state)
       SELECT x.stream, x.version, x.machine, x.state FROM ROWS FROM (unnest($10::text[]), unnest($11::integer[]), unnest($13::text[]), json_array_elements($14::json)) AS x (stream, version, machine, state)
       ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state
     )
   UPDATE ${s}.log_head SET position = $15`;
}

export type Statements = ReturnType<typeof prepareStatements>;

/** The statements of the store in `schema`; a transaction it begins ends if idle `idleInTransactionTimeoutMs` (0: never). */
export function prepareStatements(schema: string, idleInTransactionTimeoutMs: number) {
  const s = quoteSchema(schema);
  const upsertSnapshot = (machine: string, state: string) =>
    `INSERT INTO ${s}.snapshots (stream, version, machine, state) VALUES ($1, $2, ${machine}, ${state}) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state`;
  // Named statements: parsed once per connection. PostgreSQL keeps the first 63 bytes of a name (a longer one is cut,
  // and two cut alike would be one statement): a schema name that leaves no room is replaced by a digest of it.
  const tag = schema.length <= 24 ? schema : createHash('sha256').update(schema).digest('hex').slice(0, 16);
  const named = (name: string, text: string) => ({ name: `hotpatch.${tag}.${name}`, text });
  /** The log from a position, `limit` events at most (a parameter or a literal). */
  const readAllOf = (from: string, limit: string) => `SELECT ${COLUMNS} FROM ${s}.events WHERE position >= ${from} ORDER BY position LIMIT ${limit}`;
  /** The heads and snapshots of the streams of a text array (a parameter or a literal), a row each. */
  const headsOf = (streams: string) =>
    `SELECT x.stream, st.version, st.hash, sn.version AS snapshot_version, sn.machine, sn.state
       FROM unnest(${streams}) AS x(stream) LEFT JOIN ${s}.streams st USING (stream) LEFT JOIN ${s}.snapshots sn USING (stream)`;
  return {
    // Leases (leases.ts), by the server's clock: every instance reads one clock, whatever its own says.
    // A fenced batch key-share-locks its lease's row to its end: the owner's renewals (plain updates) go on, a takeover
    // (acquireLease, which locks the row FOR UPDATE first) waits for the batch.
    holdLease: named('holdLease', `SELECT 1 FROM ${s}.leases WHERE name = $1 AND owner = $2 AND epoch = $3 AND expires_at > clock_timestamp() FOR KEY SHARE`),
    // Taken when free, expired or already the owner's; the epoch moves when it changes hands (or lapsed meanwhile).
    acquireLease: named(
      'acquireLease',
      `WITH held AS (SELECT 1 FROM ${s}.leases WHERE name = $1 FOR UPDATE)
       INSERT INTO ${s}.leases AS l (name, owner, epoch, expires_at) SELECT $1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond' FROM (SELECT count(*) FROM held) AS waited
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
         epoch = CASE WHEN l.owner = excluded.owner AND l.expires_at > clock_timestamp() THEN l.epoch ELSE l.epoch + 1 END
       WHERE l.expires_at <= clock_timestamp() OR l.owner = excluded.owner
       RETURNING name, owner, epoch::text, expires_at`,
    ),
    renewLease: named(
      'renewLease',
      `UPDATE ${s}.leases SET expires_at = clock_timestamp() + $4 * interval '1 millisecond' WHERE name = $1 AND owner = $2 AND epoch = $3 AND expires_at > clock_timestamp() RETURNING name, owner, epoch::text, expires_at`,
    ),
    // Released: expired now (the row, and so the epoch, stays: the next owner's epoch is higher).
    releaseLease: named('releaseLease', `UPDATE ${s}.leases SET expires_at = clock_timestamp() WHERE name = $1 AND owner = $2 AND epoch = $3 AND expires_at > clock_timestamp()`),
    liveLeases: named('liveLeases', `SELECT name, owner, epoch::text, expires_at FROM ${s}.leases WHERE expires_at > clock_timestamp() AND starts_with(name, $1) ORDER BY name`),
    begin: idleInTransactionTimeoutMs > 0 ? `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${Math.floor(idleInTransactionTimeoutMs)}` : 'BEGIN',
    // The read before an append, in one statement (one snapshot of the database): the stream's head, which stream
    // holds the batch's first id (this one: a retry), and the stream's snapshot.
    appendHead: named(
      'appendHead',
      `SELECT st.version, st.hash, (SELECT stream FROM ${s}.events WHERE id = $2) AS holder, sn.version AS snapshot_version, sn.machine, sn.state
       FROM (SELECT $1::text AS stream) x LEFT JOIN ${s}.streams st USING (stream) LEFT JOIN ${s}.snapshots sn USING (stream)`,
    ),
    // Ids are unique across the log (migration 4): where each is held, whichever stream holds it.
    eventsById: named('eventsById', `SELECT id, stream, version, position, type, data FROM ${s}.events WHERE id = ANY($1::text[])`),
    // The write of an append: one statement, committed on its own. It moves the stream's head only from the version
    // the append was checked against ($3; a new stream's row only if nobody created it meanwhile), then, only if it
    // did, takes k positions from the log head, inserts the events with them, writes the snapshot and notifies
    // subscribers (delivered at commit). No row comes back when the stream moved: the append reads and checks again.
    // The log head is locked before the stream's row (an uncorrelated sub-select, run before the row is touched), so
    // that an append waiting for a batch (which holds the log head to its commit) holds no stream row the batch may
    // want next: every writer takes the log head first, and none waits for another in a cycle.
    appendExisting: named('appendExisting', writeStatement(s, `UPDATE ${s}.streams SET version = $11, hash = $12 WHERE stream = $1 AND version = $3 AND (SELECT true FROM ${s}.log_head FOR UPDATE) RETURNING 1`)),
    appendNew: named(
      'appendNew',
      writeStatement(s, `INSERT INTO ${s}.streams (stream, version, hash) SELECT $1::text, $11::integer, $12::text WHERE (SELECT true FROM ${s}.log_head FOR UPDATE) ON CONFLICT (stream) DO NOTHING RETURNING 1`),
    ),
    // A batch's: the log head locked to its commit, its last position, and the events after the store's log index
    // (a simple query: each statement sees what was committed before it began, so the events read are all those up
    // to the position locked); the head of a stream with where the log holds any of the append's ids (one
    // statement); its buffered rows, written at once.
    lockAndScan: (from: number) =>
      `SELECT position FROM ${s}.log_head FOR UPDATE; SELECT stream, id FROM ${s}.events WHERE position > ${Math.floor(from)} AND position <= ${Math.floor(from) + INDEX_SCAN}`,
    batchHead: named(
      'batchHead',
      `SELECT st.version, st.hash, sn.version AS snapshot_version, sn.machine, sn.state,
              (SELECT json_agg(json_build_object('id', id, 'stream', stream, 'version', version, 'position', position, 'type', type, 'data', data)) FROM ${s}.events WHERE id = ANY($2::text[])) AS held
       FROM (SELECT $1::text AS stream) x LEFT JOIN ${s}.streams st USING (stream) LEFT JOIN ${s}.snapshots sn USING (stream)`,
    ),
    // The heads and snapshots of many streams a batch is about to append to, in one statement (see willAppend); and
    // the same as literal SQL, to go with the batch's lock in one round trip (batch.ts's lockWith).
    batchHeads: named('batchHeads', headsOf('$1::text[]')),
    batchHeadsText: (streams: readonly string[]) => headsOf(`ARRAY[${streams.map((name) => pg.escapeLiteral(name)).join(', ')}]::text[]`),
    flush: named('flush', flushStatement(s)),
    // A batch's rows, many at a time: see copy-rows.ts.
    copyEvents: `COPY ${s}.events ${COPY_COLUMNS} FROM STDIN`,
    // Only over an older snapshot or one from another machine definition.
    refreshSnapshot: named('refreshSnapshot', `${upsertSnapshot('$3', '$4')} WHERE snapshots.machine <> excluded.machine OR snapshots.version < excluded.version`),
    readStream: named('readStream', `SELECT ${COLUMNS} FROM ${s}.events WHERE stream = $1 AND version >= $2::bigint AND version <= $3::bigint ORDER BY version LIMIT $4`),
    readEvent: named('readEvent', `SELECT ${COLUMNS} FROM ${s}.events WHERE stream = $1 AND id = $2`),
    readAll: named('readAll', readAllOf('$1', '$2')),
    // The same as literal SQL, to go with a batch's BEGIN in one round trip (connection.ts's Opening): whole numbers.
    readAllText: (from: number, limit: number | null) => readAllOf(String(Math.floor(from)), limit === null ? 'ALL' : String(Math.floor(limit))),
    streamVersion: named('streamVersion', `SELECT version FROM ${s}.streams WHERE stream = $1`),
    // One statement, so the version and the snapshot are read at one point in time.
    stateHead: named(
      'stateHead',
      // The snapshot's state is not sent when the stream's head is the one given ($2, $3): the reader has its state.
      `SELECT st.version, st.hash, sn.version AS snapshot_version, sn.machine, CASE WHEN st.version = $2 AND st.hash = $3 THEN NULL ELSE sn.state END AS state FROM (SELECT $1::text AS stream) x LEFT JOIN ${s}.streams st USING (stream) LEFT JOIN ${s}.snapshots sn USING (stream)`,
    ),
    // The same for several streams at once (readState calls made in one turn of the event loop, see state-heads.ts):
    // a row for each, in the order given.
    stateHeads: named(
      'stateHeads',
      `SELECT st.version, st.hash, sn.version AS snapshot_version, sn.machine, CASE WHEN st.version = x.known_version AND st.hash = x.known_hash THEN NULL ELSE sn.state END AS state
       FROM unnest($1::text[], $2::integer[], $3::text[]) WITH ORDINALITY AS x(stream, known_version, known_hash, i) LEFT JOIN ${s}.streams st USING (stream) LEFT JOIN ${s}.snapshots sn USING (stream)
       ORDER BY x.i`,
    ),
    checkpoint: named('checkpoint', `SELECT position FROM ${s}.checkpoints WHERE consumer = $1`),
    // Compare-and-set from 0 (no row yet, or a row at 0) and from any other position.
    startCheckpoint: named(
      'startCheckpoint',
      `INSERT INTO ${s}.checkpoints (consumer, position, updated) VALUES ($1, $2, now()) ON CONFLICT (consumer) DO UPDATE SET position = excluded.position, updated = excluded.updated WHERE checkpoints.position = 0`,
    ),
    moveCheckpoint: named('moveCheckpoint', `UPDATE ${s}.checkpoints SET position = $3, updated = now() WHERE consumer = $1 AND position = $2`),
    heads: named('heads', `SELECT stream, hash FROM ${s}.streams ORDER BY stream COLLATE "C"`),
    // The head row and its parts in one statement (one snapshot), a row each: one row of a large projection would
    // pass PostgreSQL's 1 GB message limit.
    projection: named(
      'projection',
      `SELECT 0 AS part, position, data FROM ${s}.projections WHERE name = $1
       UNION ALL
       SELECT pp.part, pp.position, pp.data FROM ${s}.projection_parts pp JOIN ${s}.projections p ON p.name = pp.name AND p.position = pp.position WHERE pp.name = $1
       ORDER BY part`,
    ),
    saveProjection: named(
      'saveProjection',
      `INSERT INTO ${s}.projections (name, position, data, updated) VALUES ($1, $2, $3, now()) ON CONFLICT (name) DO UPDATE SET position = excluded.position, data = excluded.data, updated = excluded.updated WHERE projections.position < excluded.position`,
    ),
    dropProjectionParts: named('dropProjectionParts', `DELETE FROM ${s}.projection_parts WHERE name = $1 AND position < $2`),
    insertProjectionPart: named('insertProjectionPart', `INSERT INTO ${s}.projection_parts (name, position, part, data) VALUES ($1, $2, $3, $4)`),
  };
}
