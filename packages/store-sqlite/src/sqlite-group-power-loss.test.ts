/**
 * Group commit against a power loss. What a power loss keeps of the WAL is what the last finished sync covered: the
 * file as it was written when that sync began. With no checkpoint (the database file left as it was opened, the WAL
 * only growing), that is a prefix of the WAL. Each sync here notes the WAL's size as it begins and makes it the
 * durable prefix once it has finished; every answer of the store (an append, a batch, a read, a refusal naming a
 * version) is then checked against the prefix durable when it was given: the database as a power loss at that moment
 * would leave it must hold what the answer said.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@hotpatch/core';
import { WrongExpectedVersionError } from '@hotpatch/store';
import { fdatasyncFile } from './group-sync.js';
import { openSqliteEventStore } from './sqlite-store.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-power-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const enrolled = { type: 'DeviceEnrolled', time: '2026-01-05T08:00:00.000Z', data: { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B1' } };

/** What an answer said: the stream holds at least `version` events. */
interface Said {
  readonly stream: string;
  readonly version: number;
  readonly what: string;
}

describe('SQLite group commit, against a power loss', () => {
  it('answers nothing that the WAL synced so far does not hold: appends, batches, reads and conflicts of 24 concurrent callers', async () => {
    const path = join(dir, 'power.db');
    /** The WAL's size covered by the last finished sync (undefined before the first). */
    let durable: number | undefined;
    const store = openSqliteEventStore({
      path,
      durability: 'group',
      syncWal: async (wal) => {
        const covered = statSync(wal).size;
        await fdatasyncFile(wal);
        durable = Math.max(durable ?? 0, covered);
      },
    });
    // No checkpoint until close: the database file stays as opened, the WAL grows (never restarted).
    store.db.pragma('wal_autocheckpoint = 0');
    const opened = readFileSync(path);
    const answers = new Map<number, Said[]>();
    const answered = (said: Said) => {
      expect(durable, `${said.what}: answered before any sync`).toBeDefined();
      answers.set(durable!, [...(answers.get(durable!) ?? []), said]);
    };
    const random = seededRandom(11);
    const streams: string[] = [];
    const worker = async (w: number) => {
      for (let i = 0; i < 12; i++) {
        const stream = `device/w${w}-${i}`;
        const pick = random.next();
        if (pick < 0.4) {
          const r = await store.appendToStream(stream, [enrolled]);
          answered({ stream, version: r.nextExpectedVersion, what: `append to ${stream}` });
          streams.push(stream);
        } else if (pick < 0.6) {
          const other = `device/w${w}-${i}-b`;
          await store.batch(async () => {
            await store.appendToStream(stream, [enrolled]);
            await store.appendToStream(other, [enrolled]);
          });
          answered({ stream: other, version: 1, what: `batch writing ${other}` });
          streams.push(stream, other);
        } else {
          // A stream written a moment ago (its append not yet answered), or one written before.
          const fresh = streams.length === 0 || random.next() < 0.5;
          const written = fresh ? store.appendToStream(stream, [enrolled]) : undefined;
          const seen = fresh ? stream : streams[random.int(0, streams.length - 1)]!;
          if (pick < 0.8) answered({ stream: seen, version: await store.streamVersion(seen), what: `read of ${seen}` });
          else {
            const refused = await store.appendToStream(seen, [enrolled], { expectedVersion: 0 }).catch((error: unknown) => error);
            expect(refused).toBeInstanceOf(WrongExpectedVersionError);
            answered({ stream: seen, version: (refused as WrongExpectedVersionError).actual, what: `conflict on ${seen}` });
          }
          if (written !== undefined) {
            answered({ stream, version: (await written).nextExpectedVersion, what: `append to ${stream}` });
            streams.push(stream);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, (_, w) => worker(w)));
    const wal = readFileSync(`${path}-wal`);
    await store.close();

    expect(answers.size).toBeGreaterThan(1);
    for (const [size, said] of answers) {
      // The disk after a power loss at that moment: the file as opened, the WAL up to what was synced.
      const image = join(dir, `image-${size}.db`);
      writeFileSync(image, opened);
      writeFileSync(`${image}-wal`, wal.subarray(0, size));
      const recovered = openSqliteEventStore({ path: image, durability: 'normal' });
      const versions = new Map((await recovered.readAll()).map((e) => [e.stream, e.version]));
      await recovered.close();
      for (const s of said) expect(versions.get(s.stream) ?? 0, s.what).toBeGreaterThanOrEqual(s.version);
    }
  });
});
