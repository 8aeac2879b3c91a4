/**
 * Sealed logs through the real binary, on SQLite and PostgreSQL: `hotpatch seal` then `verify --key`; a log
 * rewritten in the database with its hashes recomputed passes the hash chain but not the seals; the wrong key, a
 * key file that is not Ed25519, a log without a seal.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateSealKey, LogSealer } from '@hotpatch/store';
import { runCaptured } from './main.js';
import { hotpatchBinary as hotpatch } from './testing/binary.js';
import { rewrite, rewriteSqlite, type Row } from './testing/rewrite.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-cli-seal-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const timeline = join(dir, 'demo', 'events.jsonl');
const key = join(dir, 'seal.pem');
beforeAll(async () => {
  expect((await runCaptured(['demo', '--devices', '20', '--out', join(dir, 'demo')])).code).toBe(0);
}, 60_000);

describe('hotpatch seal and verify --key (SQLite)', () => {
  const db = join(dir, 'sealed.db');
  const store = `sqlite:${db}`;
  beforeAll(async () => {
    expect((await runCaptured(['import', timeline, '--store', store])).code).toBe(0);
  });

  it('seals (making the key on first use), and verify --key passes, seal by seal, in text and JSON', async () => {
    const first = await hotpatch('seal', '--store', store, '--key', key);
    expect(first).toMatchObject({ code: 0, out: expect.stringMatching(/^made a seal key: .*seal\.pem \(private, mode 0600\) and .*seal\.pem\.pub/) });
    expect(first.out).toMatch(/sealed sqlite:.*: (\d+) events in \d+ streams up to position \1, as seal 1 of seal\/log/);
    expect((await hotpatch('seal', '--store', store, '--key', key)).out).toMatch(/^nothing to seal: nothing but seals since the last seal/);
    // A seal is no fact of the fleet: status reads the sealed store as the log before it (not as of the seal's time).
    expect(JSON.parse((await runCaptured(['status', '--store', store, '--json'])).out)).toEqual(JSON.parse((await runCaptured(['status', timeline, '--json'])).out));
    expect((await runCaptured(['pause', '--store', store, '--ring', 'broad', '--by', 'tenant', '--reason', 'freeze'])).code).toBe(0);
    const second = JSON.parse((await hotpatch('seal', '--store', store, '--key', key, '--json')).out);
    expect(second).toMatchObject({ written: true, created: false, publicKey: `${key}.pub` });
    expect((await runCaptured(['pause', '--store', store, '--ring', 'pilot', '--by', 'tenant', '--reason', 'freeze'])).code).toBe(0);

    const text = await hotpatch('verify', '--store', store, '--key', `${key}.pub`);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^ok: \d+ events in \d+ streams, every transition allowed, every hash chained\nseals: 2 seals, checked with key [0-9a-f]{16}…: every one signed by it and matching the log up to the position it covers\n {2}seal 1 \(seal\/log@1, position \d+\): ok, .*\n {2}seal 2 .*: ok, .*\nnot covered: 1 event after position \d+, the last seal's: no seal shows their change or removal\nlog digest: [0-9a-f]{64}\n$/);
    const json = JSON.parse((await hotpatch('verify', '--store', store, '--key', `${key}.pub`, '--json')).out);
    expect(json).toMatchObject({ ok: true, seals: { signatures: 'checked', count: 2, uncovered: 1, list: [{ ok: true, signature: 'valid', digest: 'matches', sequence: 1 }, { ok: true, sequence: 2, covers: second.position }] } });
    // Without --key: said plainly that signatures were not checked.
    expect((await hotpatch('verify', '--store', store)).out).toMatch(/\nseals: 2 seals; signatures NOT checked \(no --key\): their numbers and digests were, and match the log\n/);
    // An exported file verifies the same.
    const file = join(dir, 'sealed.jsonl');
    expect((await runCaptured(['export', '--store', store, '--out', file])).code).toBe(0);
    expect((await hotpatch('verify', file, '--key', `${key}.pub`)).code).toBe(0);
  });

  it('a log rewritten with its hashes recomputed passes the chain but fails its seals; the wrong key fails every seal', async () => {
    const copy = join(dir, 'rewritten.db');
    expect((await runCaptured(['export', '--store', store, '--out', join(dir, 'c.jsonl')])).code).toBe(0);
    expect((await runCaptured(['import', join(dir, 'c.jsonl'), '--store', `sqlite:${copy}`])).code).toBe(0);
    await rewriteSqlite(copy, 10);
    const unkeyed = await hotpatch('verify', '--store', `sqlite:${copy}`, '--json');
    // The chain holds (no problem but the seals' digests, which a rewrite cannot recompute without the key).
    expect(JSON.parse(unkeyed.out).problems.map((p: { code: string }) => p.code)).toEqual(['SEAL_FAILED', 'SEAL_FAILED']);
    const r = await hotpatch('verify', '--store', `sqlite:${copy}`, '--key', `${key}.pub`);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^position \d+: seal\/log@1: seal 1 \(covering position \d+\) fails: the heads of the log up to position \d+ do not give its digest: an event at or below it was changed, removed, inserted or moved \(hashes recomputed or not\)$/m);
    expect(r.err).toMatch(/^hotpatch verify: 2 problems in sqlite:/);

    const otherKey = join(dir, 'other.pem');
    await loadOrCreateSealKey(otherKey);
    const wrong = await hotpatch('verify', '--store', store, '--key', `${otherKey}.pub`);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/seal 1 \(covering position \d+\) fails: it names key [0-9a-f]{12}…, not the key given \([0-9a-f]{12}…\)/);
  });

  it('refuses in one line a key file that is not Ed25519, and a key given for a log without seals', async () => {
    const rsa = join(dir, 'rsa.pem');
    await writeFile(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(await hotpatch('seal', '--store', store, '--key', rsa)).toMatchObject({ code: 1, err: `hotpatch seal: ${rsa}: a rsa key, not Ed25519: seals are signed with Ed25519\n` });
    expect(await hotpatch('verify', '--store', store, '--key', join(dir, 'missing.pub'))).toMatchObject({ code: 1, err: expect.stringMatching(/missing\.pub: no such key file\n$/) });
    const unsealed = await hotpatch('verify', timeline, '--key', `${key}.pub`);
    expect(unsealed).toMatchObject({ code: 1, out: expect.stringMatching(/^a key was given, but the log holds no seal: none of its \d+ events is sealed/) });
    // Without --key, a log without seals verifies as before: no word of seals.
    expect((await hotpatch('verify', timeline)).out).not.toMatch(/seal/);
    expect(await hotpatch('seal', '--store', store)).toMatchObject({ code: 2, err: expect.stringMatching(/--key <file> is required/) });
  });
});

const postgresUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!postgresUrl) console.warn('sealed logs on PostgreSQL skipped: HOTPATCH_TEST_POSTGRES_URL is not set');
describe.skipIf(!postgresUrl)('sealed logs on PostgreSQL', () => {
  it('seals while other writers append (seals covering a position below their own), verifies with the key, and a rewrite fails', async () => {
    const schema = `seal_cli_${process.pid}_${Date.now()}`;
    const url = new URL(postgresUrl!);
    url.searchParams.set('schema', schema);
    const source = url.toString();
    const { createPostgresEventStore } = await import('@hotpatch/store-postgres');
    const store = await createPostgresEventStore({ connectionString: postgresUrl!, schema });
    try {
      expect((await runCaptured(['import', timeline, '--store', source])).code).toBe(0);
      const sealKey = await loadOrCreateSealKey(key);
      const sealer = new LogSealer(store, sealKey.privateKey);
      // Four writers pause rings while the sealer seals, each of them through its own pool.
      const writers = await Promise.all([1, 2, 3, 4].map(() => createPostgresEventStore({ connectionString: postgresUrl!, schema })));
      let writing = true;
      const written = writers.map(async (w, k) => {
        for (let i = 0; writing; i++) await w.appendToStream(`ring/r${k}-${i}`, [{ type: 'RingPaused', time: '2026-04-01T00:00:00.000Z', data: { by: 'service', reason: 'load' } }]);
      });
      const seals = [];
      for (let i = 0; i < 10; i++) {
        seals.push(await sealer.seal());
        await new Promise((done) => setTimeout(done, 15));
      }
      writing = false;
      await Promise.all(written);
      await Promise.all(writers.map((w) => w.close()));
      const count = seals.filter((s) => s.written).length + 1;
      expect(count).toBeGreaterThan(5);
      expect((await hotpatch('seal', '--store', source, '--key', key)).code).toBe(0);
      const verified = JSON.parse((await hotpatch('verify', '--store', source, '--key', `${key}.pub`, '--json')).out);
      expect(verified).toMatchObject({ ok: true, seals: { count, uncovered: 0 } });
      // Seals that covered less than everything before them (other writers came between the read and the append).
      expect(verified.seals.list.filter((s: { position: number; covers: number }) => s.covers < s.position - 1).length).toBeGreaterThan(0);

      const target = (await store.pool.query(`SELECT * FROM "${schema}".events WHERE stream LIKE 'device/%' ORDER BY position LIMIT 1 OFFSET 5`)).rows[0] as Row;
      await rewrite(
        async (stream) => (await store.pool.query(`SELECT position::int AS position, stream, version, id, type, time, data::text AS data, meta::text AS meta FROM "${schema}".events WHERE stream = $1 ORDER BY version`, [stream])).rows as Row[],
        { ...target, position: Number(target.position) },
        async (position, time, hash) => void (await store.pool.query(`UPDATE "${schema}".events SET time = $1, hash = $2 WHERE position = $3`, [time, hash, position])),
        async (stream, hash) => void (await store.pool.query(`UPDATE "${schema}".streams SET hash = $1 WHERE stream = $2`, [hash, stream])),
      );
      const r = await hotpatch('verify', '--store', source, '--key', `${key}.pub`, '--json');
      expect(r.code).toBe(1);
      const problems = JSON.parse(r.out).problems as Array<{ code: string; message: string }>;
      expect(problems.length).toBe(count);
      expect(problems.every((p) => p.code === 'SEAL_FAILED' && /do not give its digest/.test(p.message))).toBe(true);
    } finally {
      await store.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await store.close();
    }
  }, 120_000);
});
