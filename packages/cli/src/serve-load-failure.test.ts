/**
 * `hotpatch serve` loads the service's package only once it starts (startup.test.ts): a package that cannot be loaded
 * (a broken install) stops the start with the store it opened closed again, as any other failure to start does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const opened = vi.hoisted(() => ({ closed: 0, count: 0 }));

vi.mock('@hotpatch/server', () => {
  throw new Error('broken install: @hotpatch/server');
});
vi.mock('./store-source.js', async (original) => {
  const actual = await original<typeof import('./store-source.js')>();
  return {
    ...actual,
    openEventStore: async (...args: Parameters<typeof actual.openEventStore>) => {
      const store = await actual.openEventStore(...args);
      opened.count++;
      const close = store.close.bind(store);
      store.close = async () => {
        opened.closed++;
        await close();
      };
      return store;
    },
  };
});

const { serveCommand } = await import('./commands/serve.js');

const dir = mkdtempSync(join(tmpdir(), 'hotpatch-serve-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve when the service cannot be loaded', () => {
  it('fails to start and leaves no store open', async () => {
    const io = { out() {}, err() {}, isTTY: false };
    await expect(serveCommand.run(['--store', `sqlite:${join(dir, 'x.db')}`, '--port', '0'], io as never)).rejects.toThrow();
    expect(opened.closed).toBe(opened.count);
  });
});
