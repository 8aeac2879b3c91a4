/**
 * The packages as a user gets them: each workspace package packed as publishing packs it, the tarballs installed
 * with npm into a scratch project outside the workspace, the README's embedding example compiled there by a strict
 * tsc (skipLibCheck false) under each module resolution a user may have, and run, twice, on a real SQLite file.
 * The workspace never shows what is missing from a tarball: its packages see each other's sources and its own
 * devDependencies.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const execFileAsync = promisify(execFile);
const run = async (command: string, args: string[], cwd: string) => {
  try {
    return await execFileAsync(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
};

interface Manifest {
  name: string;
  version: string;
  license?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const manifests = readdirSync(join(root, 'packages')).map((dir) => readJson<Manifest>(join(root, 'packages', dir, 'package.json')));
const packageNames = manifests.map((manifest) => manifest.name);

/** Every file below `dir`, relative to it. */
const filesBelow = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));

/** The README's embedding example, exactly as written. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Embedding it'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error('README.md: no ```ts block under "## Embedding it"');
  return code;
}

/** The resolutions a user's tsconfig may have: three that read `exports`, and the older one that reads `main` and `types`. */
const resolutions = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  node16: { module: 'node16', moduleResolution: 'node16' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
  // Fastify's logger's declarations (pino.d.ts) default-import a CommonJS module, which node10 allows only with
  // allowSyntheticDefaultImports (on by default in the three others): what a user of @hotpatch/server sets there.
  node10: { module: 'esnext', moduleResolution: 'node10', allowSyntheticDefaultImports: true },
} as const;

describe('the packages as published', () => {
  let scratch: string;
  let installed: string;
  /** What tsc said about each resolution's project ('' when it compiled clean). */
  let compiled: Record<string, string>;

  beforeAll(async () => {
    await run(process.execPath, [tsc, '-b', join(root, 'packages/cli')], root);
    scratch = mkdtempSync(join(tmpdir(), 'hotpatch-published-'));
    const tarballs = join(scratch, 'tarballs');
    await run('npx', ['-y', 'pnpm@10', '--filter', './packages/*', '-r', 'pack', '--pack-destination', tarballs], root);

    // Every package is a direct dependency, from its tarball, so that npm takes none of ours from a registry. The
    // SQLite addon is the workspace's (same version, already compiled for this Node.js): compiling it again would
    // take a minute and tests better-sqlite3, not us.
    const betterSqlite3 = dirname(createRequire(join(root, 'packages/store-sqlite/package.json')).resolve('better-sqlite3/package.json'));
    writeFileSync(
      join(scratch, 'package.json'),
      JSON.stringify({
        name: 'scratch',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(manifests.map(({ name, version }) => [name, `file:tarballs/${name.slice(1).replace('/', '-')}-${version}.tgz`])),
        // A Node.js project's own: the CLI's declarations use Node's types.
        devDependencies: { '@types/node': readJson<{ devDependencies: Record<string, string> }>(join(root, 'package.json')).devDependencies['@types/node'] },
        overrides: { 'better-sqlite3': readJson<{ version: string }>(join(betterSqlite3, 'package.json')).version },
      }),
    );
    await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], scratch);
    const addon = 'build/Release/better_sqlite3.node';
    mkdirSync(join(scratch, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
    copyFileSync(join(betterSqlite3, addon), join(scratch, 'node_modules/better-sqlite3', addon));
    // The conformance suite runs under the user's vitest: the workspace's one stands in.
    symlinkSync(realpathSync(join(root, 'node_modules/vitest')), join(scratch, 'node_modules/vitest'), 'dir');
    installed = join(scratch, 'node_modules');

    for (const [resolution, options] of Object.entries(resolutions)) {
      const dir = join(scratch, resolution);
      mkdirSync(dir);
      writeFileSync(join(dir, 'example.ts'), readmeExample());
      writeFileSync(join(dir, 'entries.ts'), packageNames.map((name, i) => `export * as p${i} from '${name}';\n`).join(''));
      writeFileSync(join(dir, 'conformance.test.ts'), CONFORMANCE_TEST);
      const compilerOptions = { ...options, target: 'es2022', strict: true, skipLibCheck: false, outDir: 'out', rootDir: '.' };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }));
    }
    // tsc emits what it can despite type errors: each resolution's case reports its own, and the example runs.
    // Each tsc is ~20 s of CPU: as many at a time as half the cores, for the suite runs other files beside this one
    // (all four at once on 2 cores starved the service tests running then, whose waits are in seconds of wall time).
    compiled = {};
    const pending = Object.keys(resolutions);
    const compile = async (): Promise<void> => {
      for (let resolution = pending.shift(); resolution !== undefined; resolution = pending.shift()) {
        compiled[resolution] = await run(process.execPath, [tsc, '-p', join(scratch, resolution)], scratch).then(() => '', (error: Error) => error.message);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.floor(availableParallelism() / 2)) }, compile));
  }, 600_000);

  afterAll(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('npm took every package of ours from its tarball', () => {
    const lock = readJson<{ packages: Record<string, { resolved?: string }> }>(join(scratch, 'package-lock.json'));
    for (const name of packageNames) expect(lock.packages[`node_modules/${name}`]?.resolved, name).toMatch(/^file:tarballs\//);
    expect(Object.keys(lock.packages).filter((path) => /node_modules\/@hotpatch\/.*node_modules\/@hotpatch\//.test(path))).toEqual([]);
  });

  it('each package carries a license, and only what it needs: no build state nor tests, source maps that resolve', () => {
    const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
    for (const name of packageNames) {
      const dir = join(installed, name);
      const manifest = readJson<Manifest>(join(dir, 'package.json'));
      const files = filesBelow(dir);
      expect(manifest.license, name).toBe(readJson<Manifest>(join(root, 'package.json')).license);
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8'), name).toBe(rootLicense);
      expect(files.filter((file) => /\.tsbuildinfo$|\.test\.ts$|\/testing\//.test(file)), name).toEqual([]);
      for (const map of files.filter((file) => file.endsWith('.map'))) {
        for (const source of readJson<{ sources: string[] }>(join(dir, map)).sources) {
          expect(existsSync(join(dir, dirname(map), source)), `${name}/${map} → ${source}`).toBe(true);
        }
      }
    }
  });

  it('every entry point a manifest names is shipped, as JavaScript and declarations', () => {
    for (const name of packageNames) {
      const dir = join(installed, name);
      const manifest = readJson<Manifest>(join(dir, 'package.json'));
      const targets = [
        ...Object.values(manifest.exports ?? {}).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target))),
        ...Object.values(manifest.bin ?? {}),
      ];
      expect(manifest.main, `${name}: main`).toBe('./dist/index.js');
      expect(manifest.types, `${name}: types`).toBe('./dist/index.d.ts');
      for (const target of [...targets, manifest.main, manifest.types]) {
        expect(target, `${name}: ${target}`).toMatch(/\.(js|d\.ts)$/);
        expect(existsSync(join(dir, target!)), `${name}: ${target}`).toBe(true);
      }
    }
  });

  it('every package a shipped module imports is among its dependencies', () => {
    const builtins = new Set(builtinModules);
    for (const name of packageNames) {
      const dir = join(installed, name);
      const manifest = readJson<Manifest>(join(dir, 'package.json'));
      const declared = new Set([name, ...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
      for (const file of filesBelow(dir).filter((file) => file.endsWith('.js'))) {
        for (const [, specifier] of readFileSync(join(dir, file), 'utf8').matchAll(/(?:\bfrom\s+|\bimport\(\s*|\brequire\(\s*|\)\.resolve\(\s*)'([^'.][^']*)'/g)) {
          const pkg = specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!;
          if (pkg.startsWith('node:') || builtins.has(pkg)) continue;
          expect(declared.has(pkg), `${name}/${file} imports ${specifier}`).toBe(true);
        }
      }
    }
  });

  it.each(Object.keys(resolutions))('the README example and every package entry type-check: strict, skipLibCheck false, moduleResolution %s', (resolution) => {
    expect(compiled[resolution]).toBe('');
  });

  it('the README example runs, and run again records nothing twice', async () => {
    // The first run is the nodenext build's, the second the node10 build's: each is what a user's build emits.
    const first = await run(process.execPath, [join(scratch, 'nodenext/out/example.js')], scratch);
    const second = await run(process.execPath, [join(scratch, 'node10/out/example.js')], scratch);
    expect(first.stdout).toBe('staged false\n');
    expect(second.stdout).toBe('staged true\n');
    // The log the example wrote, read by the published CLI: its three events, once each.
    const verify = await run(process.execPath, [join(installed, '.bin/hotpatch'), 'verify', '--store', 'sqlite:fleet.db', '--json'], scratch);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, events: 3, streams: 1 });
  });

  it('every package loads in node', async () => {
    await run(process.execPath, [join(scratch, 'nodenext/out/entries.js')], scratch);
  });

  it('the store conformance suite runs from the tarball against the SQLite store', async () => {
    const vitest = join(installed, 'vitest/vitest.mjs');
    const { stdout } = await run(process.execPath, [vitest, 'run', '--root', join(scratch, 'nodenext'), '--reporter=json', 'conformance.test.ts'], scratch);
    const report = JSON.parse(stdout) as { success: boolean; numPassedTests: number; numTotalTests: number };
    expect(report).toMatchObject({ success: true, numPassedTests: report.numTotalTests });
    expect(report.numTotalTests).toBeGreaterThan(0);
  });
});

/** A store author's test: the conformance suite from `@hotpatch/store/conformance`, against the SQLite store. */
const CONFORMANCE_TEST = `import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describeEventStoreConformance } from '@hotpatch/store/conformance';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';

const dir = mkdtempSync(join(process.cwd(), 'conformance-'));
let n = 0;
describeEventStoreConformance('SQLite', async () => {
  const path = join(dir, \`\${++n}.db\`);
  const store = openSqliteEventStore({ path });
  return { store, reopen: async () => openSqliteEventStore({ path }), cleanup: () => store.close() };
});
`;
