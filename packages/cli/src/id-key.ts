/**
 * The id key of `hotpatch serve --id-key FILE`: the secret mixed into each named tenant's id mask (scopeStore's
 * `idKey`, docs/tenants.md). It must stay the same for the life of the store and be the same on every instance over
 * it, so it lives in a file beside the store's other secrets: made on first start (32 random bytes, base64url,
 * readable by its owner alone), read as it is afterwards.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { EnvironmentError } from '@hotpatch/core';

/** An id key file that cannot be read or made, or holds too short a secret. */
export class IdKeyFileError extends EnvironmentError {
  readonly code = 'ID_KEY_FILE';
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`--id-key ${path}: ${problem}`);
  }
}

/** The key in `path`, made there first when there is no such file. */
export async function loadIdKey(path: string): Promise<{ readonly key: string; readonly made: boolean }> {
  let made = false;
  try {
    await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    made = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new IdKeyFileError(path, `cannot make it (${(error as Error).message})`);
  }
  let key: string;
  try {
    key = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    throw new IdKeyFileError(path, `cannot read it (${(error as Error).message})`);
  }
  if (key.length < 16) throw new IdKeyFileError(path, `expected a secret of at least 16 characters, found ${key.length}`);
  return { key, made };
}
