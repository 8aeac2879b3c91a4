/**
 * A seal's key files: an Ed25519 private key in PEM (PKCS #8) at the path given, made on first use with mode 0600,
 * and its public key in PEM (SubjectPublicKeyInfo) beside it as `<path>.pub`, the file `verify --key` takes.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { link, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { EnvironmentError, HotpatchError } from '@hotpatch/core';
import { readSmallFile } from '../small-file.js';
import { keyIdOf } from './seal-text.js';

/** A key file that is not what it must be (not PEM, not Ed25519, not the pair of its private key): one line, naming the file. */
export class SealKeyError extends HotpatchError {
  readonly code = 'SEAL_KEY';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/**
 * A key file that cannot be had where it is (its directory missing, or not the process's to write; the file not its
 * to read): the environment, not the key (one line, naming the key, never its temporary file).
 */
export class SealKeyPlaceError extends EnvironmentError {
  readonly code = 'SEAL_KEY_PLACE';
  constructor(
    readonly path: string,
    readonly problem = 'its directory does not exist',
  ) {
    super(`${path}: ${problem}`);
  }
}

/** What a file system's refusal means for a key file, when it is one of permission; undefined otherwise. */
function refused(error: unknown, doing: 'read' | 'made there'): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `cannot be ${doing}: permission denied`;
  if (code === 'EROFS') return `cannot be ${doing}: a read-only file system`;
  return undefined;
}

export interface SealKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SHA-256 of the public key (DER), in hex: what each seal names. */
  readonly keyId: string;
  readonly path: string;
  /** Where the public key is: `<path>.pub`. */
  readonly publicPath: string;
  /** Whether this call made the key pair. */
  readonly created: boolean;
}

/** Where the public key of the private key at `path` is kept. */
export const publicKeyPath = (path: string): string => `${path}.pub`;

const KEY_FILE_LIMIT = 64 << 10;

/**
 * The seal key at `path`: read, or made when there is no file there (an Ed25519 pair; the private key written with
 * mode 0600, all at once: two processes starting together end with the same key). A file that is not an Ed25519
 * private key in PEM is refused (`SealKeyError`), and so is a `<path>.pub` that is not its public key; a missing
 * `<path>.pub` is written.
 */
export async function loadOrCreateSealKey(path: string): Promise<SealKey> {
  const publicPath = publicKeyPath(path);
  let text = await readKeyText(path);
  let created = false;
  if (text === undefined) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    // Written whole under another name, then linked into place: another process never reads half a key, and if
    // one made the key first, link fails and its key is read.
    const pending = temporaryBeside(path);
    await writeFile(pending, pem, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
      // Said of the key, not of its temporary file.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SealKeyPlaceError(path);
      const problem = refused(error, 'made there');
      if (problem !== undefined) throw new SealKeyPlaceError(path, problem);
      throw error;
    });
    try {
      await link(pending, path);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(pending).catch(() => {});
    }
    text = (await readKeyText(path))!;
  }
  const privateKey = parseKey(path, text, 'private');
  await refuseExposed(path);
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const held = await readKeyText(publicPath);
  if (held === undefined) {
    const pending = temporaryBeside(publicPath);
    await writeFile(pending, publicPem, { mode: 0o644 });
    await rename(pending, publicPath);
  } else if (keyIdOf(parseKey(publicPath, held, 'public')) !== keyIdOf(publicKey)) {
    throw new SealKeyError(publicPath, `not the public key of ${path} (another key pair's): move it away, and it is written again`);
  }
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), path, publicPath, created };
}

/** The public key in the file at `path` (a private key's file gives its public key): what `verify --key` checks seals with. */
export async function loadSealPublicKey(path: string): Promise<KeyObject> {
  const text = await readKeyText(path);
  if (text === undefined) throw new SealKeyError(path, 'no such key file');
  return parseKey(path, text, 'public');
}

const temporaryBeside = (path: string) => `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;

/**
 * A private key others may read is not the signer's alone: refused, as ssh refuses one, rather than signing seals
 * anyone could have made (a key copied with the wrong mode, or committed to a repository and checked out 0644).
 */
async function refuseExposed(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new SealKeyError(path, `readable or writable by others (mode 0${mode.toString(8)}): a private key must be its owner's alone — chmod 600 ${path}`);
}

async function readKeyText(path: string): Promise<string | undefined> {
  let read: Awaited<ReturnType<typeof readSmallFile>>;
  try {
    read = await readSmallFile(path, KEY_FILE_LIMIT);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new SealKeyError(path, 'a directory, not a key file');
    const problem = refused(error, 'read');
    if (problem !== undefined) throw new SealKeyPlaceError(path, problem);
    throw error;
  }
  if ('tooLarge' in read) throw new SealKeyError(path, `larger than ${KEY_FILE_LIMIT >> 10} KB: not a key file`);
  return read.text;
}

function parseKey(path: string, text: string, kind: 'private' | 'public'): KeyObject {
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(text) : createPublicKey(text);
  } catch {
    throw new SealKeyError(path, `not an Ed25519 ${kind} key in PEM${kind === 'public' ? ' (the seal key’s .pub file, or the key itself)' : ''}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SealKeyError(path, `a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519: seals are signed with Ed25519`);
  return kind === 'public' && key.type === 'private' ? createPublicKey(key) : key;
}
