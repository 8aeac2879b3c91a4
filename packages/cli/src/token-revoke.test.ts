/**
 * `hotpatch token revoke` takes a token's id or the whole token, as a user pastes it: a token read from a file written
 * on Windows (`$(cat token.txt)` keeps its CR) is the same token, not "no token <the secret>" echoed back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'hotpatch-token-revoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('token revoke', () => {
  it('revokes a whole token given with a trailing CR or newline', async () => {
    const store = `sqlite:${join(dir, 'x.db')}`;
    for (const tail of ['\r', '\r\n', '\n']) {
      const created = await runCaptured(['token', 'create', '--role', 'operator', '--store', store]);
      expect(created.code).toBe(0);
      const token = created.out.trim();
      const revoked = await runCaptured(['token', 'revoke', token + tail, '--store', store, '--json']);
      expect({ code: revoked.code, err: revoked.err }).toEqual({ code: 0, err: '' });
      expect(JSON.parse(revoked.out)).toMatchObject({ revoked: true });
    }
  });

  it('says back the token’s id, never its secret', async () => {
    const store = `sqlite:${join(dir, 'y.db')}`;
    for (const json of [false, true]) {
      const created = await runCaptured(['token', 'create', '--role', 'operator', '--store', store]);
      const token = created.out.trim();
      const [, id, secret] = /^hp_([0-9a-f]{16})_(.+)$/.exec(token)!;
      for (const time of ['first', 'again']) {
        const r = await runCaptured(['token', 'revoke', token, '--store', store, ...(json ? ['--json'] : [])]);
        expect(r.code, time).toBe(0);
        expect(r.out + r.err).not.toContain(secret!);
        expect(r.out).toContain(id!);
      }
    }
  });
});
