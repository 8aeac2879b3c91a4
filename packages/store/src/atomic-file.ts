import { randomBytes } from 'node:crypto';
import { rmSync, type Stats } from 'node:fs';
import { chmod, mkdir, open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { HotpatchError } from '@hotpatch/core';

/** A file could not be written where it was asked for (its path is a folder, say); nothing was written. */
export class OutputFileError extends HotpatchError {
  readonly code = 'OUTPUT_FILE';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot write ${path}: ${reason}`);
  }
}

/** A file to be written beside `path` and put in its place once whole (see writeFileAtomically). */
export interface PendingFile {
  /** Where to write: a new file in the deepest folder that exists on the way to `path`. */
  readonly temporary: string;
  /** Puts the temporary file in `path`'s place, making its folder if missing. */
  commit(): Promise<void>;
  /** Removes the temporary file (and nothing else). */
  discard(): Promise<void>;
}

/**
 * What `path` names, written through links (the file a link names is replaced, the link kept): the target and what
 * is there now. A folder, or links that never end (ELOOP), cannot be written.
 */
async function outputTarget(path: string): Promise<{ target: string; existing: Stats | undefined }> {
  let target: string;
  try {
    target = await realpath(resolve(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new OutputFileError(path, 'its symbolic links form a loop');
    if (code !== 'ENOENT') throw systemError(path, error);
    target = resolve(path);
  }
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new OutputFileError(path, 'it is a folder');
  return { target, existing };
}

/**
 * Where to write a file that must appear whole or not at all. The temporary file sits in the deepest folder that
 * exists on the way to `path`, so that the rename stays on one file system and a failure leaves no folder behind.
 */
export async function pendingFile(path: string): Promise<PendingFile> {
  const { target, existing } = await outputTarget(path);
  if (existing !== undefined && !existing.isFile()) throw new OutputFileError(path, 'it is not a regular file');
  let folder = dirname(target);
  for (;;) {
    const found = await stat(folder).catch(() => undefined);
    if (found?.isDirectory()) break;
    if (found !== undefined) throw new OutputFileError(path, `${folder} is not a folder`);
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  const temporary = join(folder, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  live.add(temporary);
  return {
    temporary,
    async commit() {
      live.delete(temporary);
      try {
        if (existing !== undefined) await chmod(temporary, existing.mode & 0o7777);
        await mkdir(dirname(target), { recursive: true });
        await rename(temporary, target);
      } catch (error) {
        throw systemError(path, error);
      }
    },
    discard: async () => {
      live.delete(temporary);
      await unlink(temporary).catch(() => undefined);
    },
  };
}

/** The temporary files of this process not yet committed or discarded. */
const live = new Set<string>();

/**
 * Removes every temporary file this process is writing (and a database's journal files beside it), at once: for a
 * process about to end on a signal, which leaves the files it was replacing as they were.
 */
export function discardPendingFilesSync(): void {
  for (const temporary of live) for (const suffix of ['', '-wal', '-shm']) rmSync(temporary + suffix, { force: true });
  live.clear();
}

/**
 * Writes a file all at once or not at all: `write` fills a temporary file, which replaces `path` only once it is
 * whole and synced. If `write` throws (the store it reads from is unreachable, the disk is full), `path` is as it
 * was, and so is its folder. A hard link to the old file keeps the old content (the name gets a new file).
 */
export async function writeFileAtomically<T>(path: string, write: (file: FileHandle) => Promise<T>): Promise<T> {
  // A device, a pipe or a socket (/dev/null, /dev/stdout, a FIFO a reader waits on) is written to as it is: there
  // is no file to replace, and replacing it would break whatever reads it (or the system's /dev/null).
  const { existing } = await outputTarget(path);
  if (existing !== undefined && !existing.isFile()) return writeThrough(path, write);
  const pending = await pendingFile(path);
  try {
    const file = await open(pending.temporary, 'wx').catch((error: unknown) => {
      throw systemError(path, error);
    });
    let result: T;
    try {
      result = await write(file);
      await file.sync();
    } finally {
      await file.close();
    }
    await pending.commit();
    return result;
  } catch (error) {
    await pending.discard();
    throw error;
  }
}

/**
 * A system error about the temporary file, told about the file asked for ("cannot write out.jsonl: permission
 * denied"), keeping its code and call so that a caller still knows it for what it is (the environment said no).
 */
function systemError(path: string, error: unknown): unknown {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string' || typeof e.syscall !== 'string') return error;
  const why = e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return Object.assign(new Error(`cannot write ${path}: ${why} (${e.code})`), { code: e.code, syscall: e.syscall });
}

async function writeThrough<T>(path: string, write: (file: FileHandle) => Promise<T>): Promise<T> {
  const file = await open(path, 'w').catch((error: unknown) => {
    throw systemError(path, error);
  });
  try {
    return await write(file);
  } finally {
    await file.close();
  }
}
