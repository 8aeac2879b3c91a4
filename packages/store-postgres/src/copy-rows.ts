/**
 * A batch's rows sent with COPY … FROM STDIN: the server's cheapest way in (no parameters or arrays to parse, each
 * value parsed once). A pg Submittable (as pg-copy-streams and pg-cursor are): pg runs it in its queue like any query.
 * The rows go with the statement, not once the server has answered it: that answer would be read only when the
 * caller next waits for I/O, and the server would sit idle until then (the protocol has the server drop copy data
 * it did not ask for, should the statement fail).
 */
import type { Connection, Submittable } from 'pg';
import type { PendingRows } from './batch-rows.js';

/** The COPY text format's escapes (backslash, and the tab, newline and carriage return that separate values and rows). */
const SPECIAL = /[\\\t\n\r]/;
const escapeText = (value: string): string =>
  SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
/** JSON as JSON.stringify writes it holds no raw control character: only its backslashes are escaped. */
const escapeJson = (json: string): string => (json.includes('\\') ? json.replaceAll('\\', '\\\\') : json);

/** The rows in COPY's text format, one line each, in the order of COPY_COLUMNS; meta 'null' is NULL. */
export function copyText(rows: PendingRows): string {
  let text = '';
  for (let i = 0; i < rows.ids.length; i++) {
    const meta = rows.meta[i]!;
    text += `${rows.positions[i]}\t${escapeText(rows.streams[i]!)}\t${rows.versions[i]}\t${escapeText(rows.ids[i]!)}\t${escapeText(rows.types[i]!)}\t${escapeText(rows.times[i]!)}\t${escapeJson(rows.data[i]!)}\t${meta === 'null' ? '\\N' : escapeJson(meta)}\t${escapeText(rows.hashes[i]!)}\n`;
  }
  return text;
}

export const COPY_COLUMNS = '(position, stream, version, id, type, time, data, meta, hash)';

/** Connection's COPY messages: in pg 8, not in its type declarations. */
interface CopyConnection extends Connection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** `COPY … FROM STDIN` (`statement`) with `data` as its input; `done` settles when the server has taken it all, or refused it. */
export class CopyIn implements Submittable {
  readonly done: Promise<void>;
  private settle!: (error?: unknown) => void;

  constructor(
    private readonly statement: string,
    private readonly data: Buffer,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
  }

  submit(connection: Connection): void {
    const copy = connection as CopyConnection;
    copy.stream.cork?.();
    try {
      copy.query(this.statement);
      copy.sendCopyFromChunk(this.data);
      copy.endCopyFrom();
    } finally {
      copy.stream.uncork?.();
    }
  }

  // An error, from the server or the socket, ends the query (pg no longer routes messages to it).
  handleError(error: unknown): void {
    this.settle(error);
  }

  handleReadyForQuery(): void {
    this.settle();
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}
