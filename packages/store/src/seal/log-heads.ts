/**
 * Every stream's head (its last hash) as a log is read in order, with the number of events and the digest of the
 * heads (`logDigest`): what a seal signs, and what verify recomputes. The streams' sorted order is kept between
 * digests, and sorted again only when a stream was added.
 */
import { createHash } from 'node:crypto';

export class LogHeads {
  readonly heads = new Map<string, string>();
  events = 0;
  /** The position of the last event added (0: none). */
  position = 0;
  private sorted: string[] | undefined;

  add(stream: string, hash: string, position: number): void {
    if (this.sorted !== undefined && !this.heads.has(stream)) this.sorted = undefined;
    this.heads.set(stream, hash);
    this.events++;
    this.position = position;
  }

  get streams(): number {
    return this.heads.size;
  }

  /** The streams in logDigest's order. */
  sortedStreams(): readonly string[] {
    return (this.sorted ??= [...this.heads.keys()].sort());
  }

  /**
   * `logDigest` of the heads, each taken from `instead` where it has the stream (undefined there: a stream with no
   * event yet, left out). Hashed in pieces of about a megabyte, as one text would be.
   */
  digest(instead?: ReadonlyMap<string, string | undefined>): string {
    const h = createHash('sha256');
    let chunk = '';
    for (const stream of this.sortedStreams()) {
      const hash = instead !== undefined && instead.has(stream) ? instead.get(stream) : this.heads.get(stream);
      if (hash === undefined) continue;
      chunk += stream + ' ' + hash + '\n';
      if (chunk.length > 1 << 20) {
        h.update(chunk);
        chunk = '';
      }
    }
    return h.update(chunk).digest('hex');
  }
}
