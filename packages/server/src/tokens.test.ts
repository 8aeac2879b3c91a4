/** Tokens in the log: a revocation is written once however many revoke at once, and refused to who may not revoke. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { issueToken, revokeToken, UnknownTokenError } from './tokens.js';

const dir = mkdtempSync(join(tmpdir(), 'hotpatch-tokens-'));
const store = openSqliteEventStore({ path: join(dir, 'tokens.db'), durability: 'normal' });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revokeToken', () => {
  it('revoked by several at once: one says revoked, the others that it was already; one TokenRevoked, no conflict', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: undefined }), { minLength: 1, maxLength: 8 }), async (reasons) => {
        const { id } = await issueToken(store, { role: 'auditor' });
        const answers = await Promise.all(reasons.map((reason) => revokeToken(store, id, reason)));
        expect(answers.filter((a) => a.revoked).length).toBe(1);
        expect((await store.readStream(`token/${id}`)).map((e) => e.type)).toEqual(['TokenIssued', 'TokenRevoked']);
      }),
      { seed: 22, numRuns: 25 },
    );
  });

  it('a token the caller may not revoke is a missing one, and nothing is written', async () => {
    const { id } = await issueToken(store, { role: 'operator' });
    await expect(revokeToken(store, id, 'no', () => false)).rejects.toBeInstanceOf(UnknownTokenError);
    await expect(revokeToken(store, '0123456789abcdef')).rejects.toBeInstanceOf(UnknownTokenError);
    expect((await store.readStream(`token/${id}`)).map((e) => e.type)).toEqual(['TokenIssued']);
  });
});
