/**
 * Tenants on the command line: three fleets in one SQLite file (the default tenant's
 * demo, tenant acme's and tenant globex's); each command with --tenant answers for that tenant exactly as it would on
 * a store of its own, the default tenant's log stays what it was, verify checks the whole log or one tenant, and a
 * tenant that is not there or breaks the rule is one line and exit 1.
 * Most commands run in-process (`main`, as the binary calls it): each process costs half a second of Node.js start-up
 * and this file runs about ninety. The binary itself runs the first demo and, for each error, the first command line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const dir = await mkdtemp(join(tmpdir(), 'hotpatch-cli-tenants-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

type Ran = { code: number; out: string; err: string };
/** The binary run as a process: its exit code and what it printed. */
const spawned = (...argv: string[]) =>
  new Promise<Ran>((done) => {
    execFile(process.execPath, [bin, ...argv], { cwd: dir, maxBuffer: 64 << 20 }, (error, out, err) => done({ code: error ? ((error as { code?: number }).code ?? -1) : 0, out, err }));
  });
/** The same command line run in-process, printed as the binary prints it (each line ends with a newline). */
const run = async (...argv: string[]): Promise<Ran> => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (text) => out.push(`${text}\n`), err: (text) => err.push(`${text}\n`), isTTY: false });
  return { code, out: out.join(''), err: err.join('') };
};
const succeeded = (r: Ran, argv: string[]) => {
  expect(r, argv.join(' ')).toMatchObject({ code: 0, err: expect.not.stringMatching(/Error/) });
  return r.out;
};
const ok = async (...argv: string[]) => succeeded(await run(...argv), argv);

const shared = `sqlite:${join(dir, 'shared', 'hotpatch.db')}`;
/** Each tenant's demo on a store of its own. */
const alone = (tenant: string) => `sqlite:${join(dir, `alone-${tenant}`, 'hotpatch.db')}`;
const DEMOS: Record<string, string[]> = { default: ['--devices', '25'], acme: ['--devices', '25', '--tenant', 'acme'], globex: ['--devices', '15', '--seed', '2', '--tenant', 'globex'] };
/** Export lines without their positions (a log of its own numbers them from 1). */
const unpositioned = (text: string) => text.replace(/,"position":\d+/g, '');

beforeAll(async () => {
  succeeded(await spawned('demo', ...DEMOS.default!, '--out', 'shared'), ['demo']);
  await ok('demo', ...DEMOS.acme!, '--store', shared, '--out', join(dir, 'acme'));
  await ok('demo', ...DEMOS.globex!, '--store', shared, '--out', join(dir, 'globex'));
  for (const [tenant, args] of Object.entries(DEMOS)) await ok('demo', ...args, '--out', join(dir, `alone-${tenant}`));
}, 300_000);

describe('tenants on the command line', () => {
  it('the default tenant’s log is what it was: the same export, digest and status as its demo alone', async () => {
    expect(await ok('export', '--store', shared, '--tenant', 'default')).toBe(await ok('export', '--store', alone('default')));
    const digest = (text: string) => /log digest: ([0-9a-f]{64})/.exec(text)![1];
    expect(digest(await ok('verify', '--store', shared, '--tenant', 'default'))).toBe(digest(await ok('verify', '--store', alone('default'))));
    expect(await ok('status', '--store', shared)).toBe(await ok('status', '--store', alone('default')));
    // In-process, a command prints what the binary prints.
    expect(await run('status', '--store', shared, '--tenant', 'acme')).toEqual(await spawned('status', '--store', shared, '--tenant', 'acme'));
    expect(await ok('replay', '--store', shared, '--json')).toBe(await ok('replay', '--store', alone('default'), '--json'));
  });

  it('status, replay and history with --tenant answer as on the tenant’s own store, from a store or a file', async () => {
    for (const tenant of ['acme', 'globex']) {
      const own = alone(tenant);
      expect(await ok('status', '--store', shared, '--tenant', tenant), tenant).toBe(await ok('status', '--store', own, '--tenant', tenant));
      const replayed = await ok('replay', '--store', own, '--tenant', tenant, '--json');
      expect(await ok('replay', '--store', shared, '--tenant', tenant, '--json')).toBe(replayed);
      // The demo's export is the whole shared log: --tenant reads its tenant's lines alone.
      expect(await ok('replay', join(dir, tenant, 'events.jsonl'), '--tenant', tenant, '--json')).toBe(replayed);
      expect(await ok('replay', '--store', shared, '--tenant', tenant, '--device', 'dev-00003', '--at', '2026-02-20T00:00:00Z', '--json')).toBe(await ok('replay', '--store', own, '--tenant', tenant, '--device', 'dev-00003', '--at', '2026-02-20T00:00:00Z', '--json'));
      // Positions are the log's: the shared one numbers other tenants' events too.
      const history = (store: string) => ok('history', '--store', store, '--tenant', tenant, '--rollout', 'HP-2026-02', '--json').then((t) => JSON.parse(t, (key, value) => (key === 'position' ? 0 : value)));
      expect(await history(shared)).toEqual(await history(own));
      expect(JSON.parse(await ok('history', join(dir, tenant, 'events.jsonl'), '--tenant', tenant, '--device', 'dev-00001', '--json')).length).toBeGreaterThan(3);
    }
    // A position after acme's last event, at the log's end (globex's events came after): acme's fleet at its end.
    const end = JSON.parse(await ok('verify', '--store', shared, '--json')).events;
    expect(await ok('replay', '--store', shared, '--tenant', 'acme', '--position', String(end), '--json')).toBe(await ok('replay', '--store', shared, '--tenant', 'acme', '--json'));
    expect(await run('replay', '--store', shared, '--tenant', 'acme', '--position', String(end + 1))).toMatchObject({ code: 1, err: expect.stringMatching(/past the end/) });
    // Each tenant's fleet is its own: acme's 25 devices, globex's 15.
    expect(JSON.parse(await ok('replay', '--store', shared, '--tenant', 'globex', '--json'))).toHaveLength(15);
  });

  it('whatif --tenant runs the tenant’s recorded fleet again, as on its own store', async () => {
    const policy = join(dir, 'shared', 'policy-lenient-pilot.json');
    const whatif = (store: string) => ok('whatif', '--store', store, '--tenant', 'acme', '--policy', policy, '--json');
    expect(await whatif(shared)).toBe(await whatif(alone('acme')));
  });

  it('report --tenant draws the tenant’s rollout, device and fleet as on its own store, from a store or a file', async () => {
    const policy = join(dir, 'shared', 'policy-lenient-pilot.json');
    const out = join(dir, 'report.html');
    // The page's data; positions are the log's (the shared one numbers other tenants' events too), the source its name.
    const dataOf = async (...argv: string[]) => {
      await ok('report', ...argv, '--out', out);
      const { source: _source, ...data } = JSON.parse(/id="report-data">(.*?)<\/script>/s.exec(await readFile(out, 'utf8'))![1]!, (key, value) => (key === 'position' ? 0 : value));
      return data;
    };
    for (const subject of [['--rollout', 'HP-2026-02', '--whatif', policy], ['--device', 'dev-00003'], ['--fleet']]) {
      const own = await dataOf('--store', alone('acme'), '--tenant', 'acme', ...subject);
      expect(await dataOf('--store', shared, '--tenant', 'acme', ...subject), subject.join(' ')).toEqual(own);
      expect(await dataOf(join(dir, 'acme', 'events.jsonl'), '--tenant', 'acme', ...subject), subject.join(' ')).toEqual(own);
    }
  });

  it('export --tenant writes the tenant’s events as stored: the same lines as on its own store, and they verify', async () => {
    const own = await ok('export', '--store', alone('acme'), '--tenant', 'acme');
    const exported = await ok('export', '--store', shared, '--tenant', 'acme');
    expect(exported.split('\n')[0]).toMatch(/"stream":"tenant\/acme\/device\//);
    expect(unpositioned(exported)).toBe(unpositioned(own));
    await writeFile(join(dir, 'acme-only.jsonl'), exported);
    expect(await ok('verify', join(dir, 'acme-only.jsonl'))).toMatch(/^ok: /);
  });

  it('verify checks the whole log, or one tenant’s streams; a changed event of one tenant fails that tenant and the whole log, not another tenant', async () => {
    expect(await ok('verify', '--store', shared)).toMatch(/^ok: \d+ events in \d+ streams/);
    const acme = await ok('verify', '--store', shared, '--tenant', 'acme', '--json');
    expect(JSON.parse(acme)).toMatchObject({ ok: true, events: (await ok('export', '--store', alone('acme'))).trimEnd().split('\n').length });
    const lines = (await readFile(join(dir, 'globex', 'events.jsonl'), 'utf8')).trimEnd().split('\n');
    const at = lines.findIndex((l) => l.includes('"stream":"tenant/acme/device/dev-00002"') && l.includes('"type":"DeviceEnrolled"'));
    lines[at] = lines[at]!.replace('"edition":"', '"edition":"Changed ');
    const tampered = join(dir, 'tampered.jsonl');
    await writeFile(tampered, lines.join('\n') + '\n');
    expect((await run('verify', tampered)).code).toBe(1);
    expect((await run('verify', tampered, '--tenant', 'acme')).out).toMatch(new RegExp(`^line ${at + 1}: tenant/acme/device/dev-00002@1: .*hash`, 'm'));
    expect(await ok('verify', tampered, '--tenant', 'globex')).toMatch(/^ok: /);
    expect(await ok('verify', tampered, '--tenant', 'default')).toMatch(/^ok: /);
  });

  it('pause and resume --tenant hold that tenant’s ring alone', async () => {
    const store = `sqlite:${join(dir, 'pauses.db')}`;
    await ok('import', join(dir, 'globex', 'events.jsonl'), '--store', store);
    expect(await ok('pause', '--store', store, '--tenant', 'acme', '--ring', 'pilot', '--by', 'tenant', '--reason', 'change freeze')).toMatch(/RingPaused recorded .* ring pilot is paused by tenant/);
    expect(await ok('status', '--store', store, '--tenant', 'acme')).toMatch(/Ring pilot paused since .* by tenant \(change freeze\)/);
    for (const other of [['--tenant', 'globex'], []]) expect(await ok('status', '--store', store, ...other)).not.toMatch(/Ring pilot paused/);
    const refused = await run('resume', '--store', store, '--tenant', 'acme', '--ring', 'pilot', '--by', 'service');
    expect(refused).toMatchObject({ code: 1, err: expect.stringMatching(/^hotpatch resume: ring pilot is paused by tenant: the service holds no pause on it to lift/) });
    await ok('resume', '--store', store, '--tenant', 'acme', '--ring', 'pilot', '--by', 'tenant');
    expect(await ok('history', '--store', store, '--tenant', 'acme', '--ring', 'pilot')).toMatch(/ring pilot: open/);
    // The service's own streams are no tenant's, the default tenant's included.
    await ok('token', 'create', '--role', 'operator', '--store', store);
    expect(await ok('export', '--store', store)).toMatch(/"stream":"token\//);
    expect(await ok('export', '--store', store, '--tenant', 'default')).not.toMatch(/"stream":"token\//);
    expect(await ok('verify', '--store', store, '--tenant', 'default')).toMatch(/^ok: /);
  });

  it('a tenant the log does not hold, or a name that breaks the rule: one line, exit 1, for every command that takes --tenant', async () => {
    const file = join(dir, 'globex', 'events.jsonl');
    for (const [i, argv] of [
      ['status', '--store', shared],
      ['replay', '--store', shared],
      ['replay', file],
      ['history', '--store', shared, '--device', 'dev-00001'],
      ['verify', '--store', shared],
      ['verify', file],
      ['whatif', file, '--policy', join(dir, 'shared', 'policy-lenient-pilot.json')],
      ['report', '--store', shared, '--fleet', '--out', join(dir, 'none.html')],
    ].entries()) {
      // The first command line as a process too: its exit code and its one line on stderr are the binary's.
      const runs = i === 0 ? [run, spawned] : [run];
      for (const runner of runs) {
        const missing = await runner(...argv, '--tenant', 'initech');
        expect(missing, argv.join(' ')).toMatchObject({ code: 1, out: '' });
        expect(missing.err).toMatch(/^hotpatch \w+: no tenant "initech" in .*: it holds none of its events\n$/);
        const invalid = await runner(...argv, '--tenant', 'a/b');
        expect(invalid.code, argv.join(' ')).toBe(1);
        expect(invalid.err).toMatch(/^hotpatch \w+: tenant "a\/b" holds "\/" at character 2; a tenant is a non-empty name of at most 64 characters[^\n]*\n$/);
      }
    }
    expect(JSON.parse((await run('status', '--store', shared, '--tenant', 'x'.repeat(65), '--json')).out)).toMatchObject({ ok: false, error: { code: 'INVALID_TENANT', exit: 1 } });
  });

  it('simulate --tenant writes the same fleet under the tenant’s names: the same figures as without', async () => {
    const figures = async (...argv: string[]) => {
      const { hotpatch, traditional } = JSON.parse(await ok('simulate', '--devices', '40', '--months', '2', '--seed', '3', '--json', ...argv));
      return { hotpatch, traditional };
    };
    const store = `sqlite:${join(dir, 'sim.db')}`;
    await ok('import', join(dir, 'globex', 'events.jsonl'), '--store', store);
    expect(await figures('--store', store, '--tenant', 'initech')).toEqual(await figures());
    expect(JSON.parse(await ok('replay', '--store', store, '--tenant', 'initech', '--json'))).toHaveLength(40);
    expect(await ok('verify', '--store', store)).toMatch(/^ok: /);
  });
});
