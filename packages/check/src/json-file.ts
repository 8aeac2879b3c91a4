import { readSmallFile } from '@hotpatch/store';

/** A small JSON file's value; `fail` makes the error (naming the file) of a file that cannot be read or parsed. */
export async function readJsonFile(path: string, noun: string, fail: (problem: string) => Error): Promise<unknown> {
  let read: Awaited<ReturnType<typeof readSmallFile>>;
  try {
    read = await readSmallFile(path);
  } catch (error) {
    throw fail(`cannot read (${(error as Error).message})`);
  }
  if ('tooLarge' in read) throw fail(`larger than 1 MiB: not ${noun}`);
  try {
    return JSON.parse(read.text) as unknown;
  } catch (error) {
    throw fail(`not valid JSON (${(error as Error).message})`);
  }
}
