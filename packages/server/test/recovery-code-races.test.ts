/**
 * Recovery codes replaced twice at once (two instances) leave exactly one set: the later replacement deletes the
 * earlier one's codes; two first sets at once (a TOTP confirmation racing a passkey registration) store one. On PostgreSQL's READ COMMITTED each
 * replacement used to delete only the rows it saw, and both sets stayed live (20 codes). On PostgreSQL two stores
 * over one database, as two instances would be; on SQLite one.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { openStore, type Store } from '../src/index.js';
import { requirePostgres } from './support/postgres.js';

const pg = await requirePostgres('recovery-code races');
const dirs: string[] = [];
afterAll(async () => {
  await pg?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Two stores over one database, as two server instances have on PostgreSQL; on SQLite (one instance per file) the
 * one store twice, its requests overlapping as a server's do.
 */
async function twoStores(dialect: 'sqlite' | 'postgres'): Promise<[Store, Store]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-recovery-'));
  dirs.push(dataDir);
  if (dialect === 'sqlite') {
    const store = await openStore({ dataDir });
    return [store, store];
  }
  const open = () => openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema } });
  const first = await open();
  return [first, await open()];
}

const codes = (set: string, n = 10) => Array.from({ length: n }, (_, i) => `${set}-code-${i}`);

/** A confirmed passkey factor for the user (as a registration stores it). */
const addPasskey = (store: Store, userId: string, id: string) =>
  store.mfa.insertFactor({
    id: randomUUID(),
    userId,
    kind: 'webauthn',
    name: 'key',
    credentialId: `cred-${id}`,
    publicKey: 'pk',
    confirmedAt: Date.now(),
  });

describe.each(pg === undefined ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const))(
  '%s',
  (dialect) => {
    it('two replacements at once leave one set of ten', async () => {
      const [a, b] = await twoStores(dialect);
      try {
        for (let round = 0; round < 8; round++) {
          const user = await a.createUser({ email: `races-${round}@example.com`, passwordHash: 'x' });
          await a.mfa.replaceRecoveryCodes(user.id, codes('old'));
          await Promise.all([
            a.mfa.replaceRecoveryCodes(user.id, codes(`a${round}`)),
            b.mfa.replaceRecoveryCodes(user.id, codes(`b${round}`)),
          ]);
          expect(await a.mfa.countRecoveryCodes(user.id), `round ${round}`).toBe(10);
          const fromA = await a.mfa.consumeRecoveryCode(user.id, `a${round}-code-0`);
          const fromB = await a.mfa.consumeRecoveryCode(user.id, `b${round}-code-0`);
          // Exactly one of the two sets is the live one; the old set is gone.
          expect([fromA, fromB].filter(Boolean)).toHaveLength(1);
          expect(await a.mfa.consumeRecoveryCode(user.id, 'old-code-1')).toBe(false);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('two first sets at once: one is stored, the other refused; a user with codes gets none', async () => {
      const [a, b] = await twoStores(dialect);
      try {
        for (let round = 0; round < 8; round++) {
          const user = await a.createUser({ email: `first-${round}@example.com`, passwordHash: 'x' });
          await addPasskey(a, user.id, `first-${round}`);
          const stored = await Promise.all([
            a.mfa.addFirstRecoveryCodes(user.id, codes(`first-a${round}`)),
            b.mfa.addFirstRecoveryCodes(user.id, codes(`first-b${round}`)),
          ]);
          expect(stored.filter(Boolean), `round ${round}`).toHaveLength(1);
          const live = stored[0] ? 'first-a' : 'first-b';
          expect(await a.mfa.countRecoveryCodes(user.id)).toBe(10);
          expect(await a.mfa.consumeRecoveryCode(user.id, `${live}${round}-code-3`)).toBe(true);
          expect(await a.mfa.addFirstRecoveryCodes(user.id, codes(`late${round}`))).toBe(false);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('no codes outlive the last factor: a first set without a factor is refused, and removal races a first set', async () => {
      const [a, b] = await twoStores(dialect);
      try {
        const lone = await a.createUser({ email: 'no-factor@example.com', passwordHash: 'x' });
        expect(await a.mfa.addFirstRecoveryCodes(lone.id, codes('lone'))).toBe(false);
        expect(await a.mfa.countRecoveryCodes(lone.id)).toBe(0);
        for (let round = 0; round < 8; round++) {
          const user = await a.createUser({ email: `removed-${round}@example.com`, passwordHash: 'x' });
          await addPasskey(a, user.id, `removed-${round}`);
          // An admin's reset (every factor) at the same moment as the passkey's registration stores its codes.
          const [removed] = await Promise.all([
            a.mfa.removeFactors(user.id),
            b.mfa.addFirstRecoveryCodes(user.id, codes(`removed-${round}`)),
          ]);
          expect(removed, `round ${round}`).toBe(1);
          expect(await a.mfa.listFactors(user.id)).toEqual([]);
          expect(await a.mfa.countRecoveryCodes(user.id), `round ${round}`).toBe(0);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });
  },
);
