import { open } from 'node:fs/promises';

/**
 * A small text file read whole (a policy, a scenario), at most `limit` bytes: a device, a pipe without end or a
 * file far too large for what it claims to be is refused (`tooLarge`) rather than read into memory for ever.
 */
export async function readSmallFile(path: string, limit = 1 << 20): Promise<{ text: string } | { tooLarge: true }> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    let size = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, size, buffer.length - size, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size > limit) return { tooLarge: true };
    }
    return { text: buffer.toString('utf8', 0, size) };
  } finally {
    await file.close();
  }
}
