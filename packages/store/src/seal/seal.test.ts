import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../memory-store.js';
import { EnvironmentError } from '@hotpatch/core';
import { loadOrCreateSealKey, loadSealPublicKey, SealKeyError, SealKeyPlaceError } from './seal-keys.js';
import { LogSealer } from './seal-log.js';
import { keyIdOf, sealSignatureValid } from './seal-text.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-seal-keys-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `k${++n}.pem`);

async function refusal(promise: Promise<unknown>): Promise<SealKeyError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SealKeyError);
  expect((error as Error).message).not.toMatch(/\n/);
  return error as SealKeyError;
}

describe('seal key files', () => {
  it('are made on first use (private 0600, public beside it) and read back as the same key after', async () => {
    const path = fresh();
    const made = await loadOrCreateSealKey(path);
    expect(made).toMatchObject({ created: true, path, publicPath: `${path}.pub` });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await readFile(`${path}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await loadOrCreateSealKey(path);
    expect(again).toMatchObject({ created: false, keyId: made.keyId });
    expect(keyIdOf(await loadSealPublicKey(`${path}.pub`))).toBe(made.keyId);
    // The private key's file gives its public key too.
    expect(keyIdOf(await loadSealPublicKey(path))).toBe(made.keyId);
  });

  it('made by several callers at once: one key, the others read it', async () => {
    const path = fresh();
    const all = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateSealKey(path)));
    expect(new Set(all.map((k) => k.keyId)).size).toBe(1);
    expect(all.filter((k) => k.created)).toHaveLength(1);
  });

  it('a missing .pub is written again; one of another pair is refused', async () => {
    const path = fresh();
    const made = await loadOrCreateSealKey(path);
    await rm(`${path}.pub`);
    expect((await loadOrCreateSealKey(path)).keyId).toBe(made.keyId);
    await writeFile(`${path}.pub`, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    expect((await refusal(loadOrCreateSealKey(path))).message).toMatch(/\.pub: not the public key of/);
  });

  it.skipIf(process.platform === 'win32')('refuses a private key others may read or write, and takes it once it is the owner’s alone', async () => {
    const path = fresh();
    await writeFile(path, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    for (const mode of [0o644, 0o640, 0o602]) {
      await chmod(path, mode);
      const error = await refusal(loadOrCreateSealKey(path));
      expect(error.message).toBe(`${path}: readable or writable by others (mode 0${mode.toString(8)}): a private key must be its owner's alone — chmod 600 ${path}`);
    }
    await chmod(path, 0o600);
    expect((await loadOrCreateSealKey(path)).created).toBe(false);
    // Verifying takes the public half from any file: reading it signs nothing.
    await chmod(path, 0o644);
    await expect(loadSealPublicKey(path)).resolves.toBeDefined();
  });

  it('refuses, in one line naming the file, what is not an Ed25519 key', async () => {
    const rsa = fresh();
    await writeFile(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect((await refusal(loadOrCreateSealKey(rsa))).message).toBe(`${rsa}: a rsa key, not Ed25519: seals are signed with Ed25519`);
    const garbage = fresh();
    await writeFile(garbage, 'hello\n');
    expect((await refusal(loadOrCreateSealKey(garbage))).message).toBe(`${garbage}: not an Ed25519 private key in PEM`);
    expect((await refusal(loadSealPublicKey(garbage))).problem).toMatch(/not an Ed25519 public key in PEM/);
    const publicOnly = fresh();
    await writeFile(publicOnly, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    expect((await refusal(loadOrCreateSealKey(publicOnly))).problem).toBe('not an Ed25519 private key in PEM');
    const folder = fresh();
    await mkdir(folder);
    expect((await refusal(loadOrCreateSealKey(folder))).problem).toMatch(/a directory/);
    expect((await refusal(loadSealPublicKey(join(dir, 'none.pub')))).problem).toBe('no such key file');
  });

  it('a key to make in a directory that does not exist: SealKeyPlaceError (the environment) naming the key, not its temporary file', async () => {
    // `hotpatch serve --store sqlite:/no/such/dir/x.db` makes its key beside the store: it said ENOENT on "….pem.<pid>.<random>.tmp".
    const path = join(dir, 'no-such-dir', 'k.pem');
    const error = await loadOrCreateSealKey(path).then(() => undefined, (e: unknown) => e as SealKeyPlaceError);
    // The environment (exit 3 from the CLI), not an invalid key.
    expect(error).toBeInstanceOf(SealKeyPlaceError);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error!.message).toBe(`${path}: its directory does not exist`);
  });
});

describe('a log sealer', () => {
  it('with skipEmpty, writes nothing on an empty log (a service that never started), and seals once there is something', async () => {
    const store = createInMemoryEventStore();
    const key = await loadOrCreateSealKey(fresh());
    expect(await new LogSealer(createInMemoryEventStore(), key.privateKey).seal()).toMatchObject({ written: true, position: 0, events: 0 });
    const sealer = new LogSealer(store, key.privateKey, { skipEmpty: true });
    expect(await sealer.seal()).toMatchObject({ written: false, event: undefined, position: 0, events: 0 });
    expect(await store.readAll()).toEqual([]);
    await store.appendToStream('ring/a', [{ type: 'RingPaused', time: '2026-01-01T00:00:00.000Z', data: { by: 'tenant', reason: 'freeze' } }]);
    expect(await sealer.seal()).toMatchObject({ written: true, position: 1, events: 1 });
  });

  it('seals the heads, reads only what came since, writes nothing when nothing but seals came, and decides again after another sealer', async () => {
    const store = createInMemoryEventStore();
    const key = await loadOrCreateSealKey(fresh());
    const enrol = (ring: string) => store.appendToStream(`ring/${ring}`, [{ type: 'RingPaused', time: '2026-01-01T00:00:00.000Z', data: { by: 'tenant', reason: 'freeze' } }]);
    await enrol('a');
    await enrol('b');
    const sealer = new LogSealer(store, key.privateKey, { clock: () => new Date('2026-01-02T00:00:00Z') });
    const first = await sealer.seal();
    expect(first).toMatchObject({ written: true, position: 2, events: 2, streams: 2, keyId: key.keyId, event: { stream: 'seal/log', version: 1, position: 3, time: '2026-01-02T00:00:00.000Z' } });
    const data = first.event!.data as { signature: string; sequence: number };
    expect(sealSignatureValid({ ...(first.event!.data as never), stream: 'seal/log', time: first.event!.time }, data.signature, key.publicKey)).toBe(true);
    expect(await sealer.seal()).toMatchObject({ written: false, position: 2, event: { position: 3 } });
    await enrol('c');
    // Another sealer seals between this one's read and its append (and a ring is paused after it): the append
    // conflicts, and this one reads both and seals again.
    let raced = false;
    const racing = new Proxy(store, {
      get: (target, prop, receiver) =>
        prop === 'appendToStream'
          ? async (...args: Parameters<typeof store.appendToStream>) => {
              if (args[0] === 'seal/log' && !raced) {
                raced = true;
                await new LogSealer(store, key.privateKey).seal();
                await enrol('d');
              }
              return target.appendToStream(...args);
            }
          : Reflect.get(target, prop, receiver),
    });
    const third = await new LogSealer(racing, key.privateKey).seal();
    expect(raced).toBe(true);
    expect(third).toMatchObject({ written: true, position: 6, events: 6, streams: 5, event: { version: 3, position: 7 } });
    expect((third.event!.data as { sequence: number }).sequence).toBe(3);
    // Called twice at once (a checkpoint and a shutdown): one seal after the other, the heads read once.
    await enrol('e');
    const [a, b] = await Promise.all([sealer.seal(), sealer.seal()]);
    expect(a).toMatchObject({ written: true, position: 8, events: 8, streams: 6, event: { version: 4, position: 9 } });
    expect(b).toMatchObject({ written: false, position: 8, event: { position: 9 } });
    // The first sealer, which saw none of it, reads only what came since its seal.
    expect(await sealer.seal()).toMatchObject({ written: false, position: 8, event: { position: 9 } });
  });
});
