/** The build bundles TypeBox into one module (scripts/bundle-typebox.mjs): a process loads it instead of ~700 files. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the built TypeBox', () => {
  it('is one file that imports nothing, and the CLI starts without reading TypeBox’s own modules', () => {
    const bundle = readFileSync(`${root}packages/core/dist/typebox.js`, 'utf8');
    expect(bundle).not.toMatch(/\bfrom\s*["']typebox/);
    expect(bundle).not.toMatch(/\bimport\s*\(?\s*["']/);
    // TypeBox's license travels with its code, and the installed version is what was bundled.
    const installed = JSON.parse(readFileSync(`${root}packages/core/node_modules/typebox/package.json`, 'utf8')) as { version: string };
    expect(bundle.slice(0, 400)).toContain(`TypeBox ${installed.version}, bundled`);
    expect(bundle.slice(0, 1500)).toMatch(/The MIT License[\s\S]*Copyright \(c\) 2017-\d+ Haydn Paterson/);
    // The modules a run of the CLI loads, as the ESM loader resolves them (a hook in a worker thread reports each).
    const hook = `data:text/javascript,${encodeURIComponent(`
      import { register } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const urls = [];
      port1.on('message', (u) => urls.push(u));
      port1.unref();
      register('data:text/javascript,' + encodeURIComponent('let port; export function initialize(d) { port = d.port; } export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }'), { data: { port: port2 }, transferList: [port2] });
      process.on('exit', () => process.stderr.write('\\n' + JSON.stringify(urls)));
    `)}`;
    const run = spawnSync(process.execPath, ['--import', hook, `${root}packages/cli/dist/bin.js`, 'check', '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const urls = JSON.parse(run.stderr.trim().split('\n').pop()!) as string[];
    expect(urls.some((u) => u.includes('/packages/core/dist/typebox.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('/node_modules/typebox/'))).toEqual([]);
  });
});
