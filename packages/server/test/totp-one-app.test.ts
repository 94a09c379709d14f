/**
 * One authenticator app per account ([mfa.md](../../../docs/mfa.md#enrolment)) held by the schema, on SQLite and
 * PostgreSQL: migration 0013 upgrades a database on which concurrent enrolments left several confirmed TOTP factors
 * for one user (the one confirmed first stays, the others go; the latest pending enrolment stays; passkeys and the
 * recovery codes stay), and its unique indexes then refuse a second confirmed or pending TOTP factor. A confirmation
 * that meets an authenticator app confirmed meanwhile — seen before it, or only through the unique index — is 409
 * `ERR_MFA_ALREADY_ENROLLED`, and the refused enrolment is deleted.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';

import { createMfaSecrets } from '../src/services/mfa-secrets.js';
import { confirmTotp, startTotp, type FactorDeps } from '../src/services/mfa-totp.js';
import { base32Decode, newTotpSecret, totpCode } from '../src/services/totp.js';
import { StoreError } from '../src/store/errors.js';
import type { Schema } from '../src/store/schema.js';
import type { Store } from '../src/store/store.js';
import { migrateTo, migrationBackends } from './support/migrations.js';

const T0 = Date.UTC(2033, 0, 1, 9, 0, 5);
const backends = await migrationBackends('one authenticator app', T0);

/** A row of `mfa_factors` as the bug left them. */
function factorRow(userId: string, id: string, at: { created: number; confirmed: number | null }) {
  return {
    id,
    user_id: userId,
    kind: 'totp',
    name: 'Authenticator app',
    secret_ciphertext: 'sealed',
    credential_id: null,
    public_key: null,
    counter: 0,
    transports: '[]',
    created_at: at.created,
    confirmed_at: at.confirmed,
    last_used_at: at.confirmed,
  };
}

const ids = (store: Store, userId: string) =>
  store.mfa
    .listFactors(userId)
    .then((factors) =>
      factors.map((f) => `${f.kind}:${f.id}:${f.confirmedAt === null ? 'pending' : 'confirmed'}`).sort(),
    );

/** `store`, its `listFactors` blind to confirmed factors (a read from before they were confirmed). */
function withoutConfirmedFactors(store: Store): Store {
  const mfa = {
    ...store.mfa,
    listFactors: async (userId: string) =>
      (await store.mfa.listFactors(userId)).filter((f) => f.confirmedAt === null),
  };
  return Object.create(store, { mfa: { value: mfa } }) as Store;
}

/** Rejects with the store's unique-violation error. */
async function expectConflict(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe('ERR_STORE_CONFLICT');
}

describe.each(backends)('one authenticator app per account: $dialect', (backend) => {
  it('0013 keeps the earliest confirmed app (and the latest pending one) of a user the race left several', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      // The accounts exist before (this release's store writes columns of later migrations, gone down here).
      const a = await store.createUser({ email: `a-${randomUUID()}@example.com`, passwordHash: 'h' }, T0);
      const b = await store.createUser({ email: `b-${randomUUID()}@example.com`, passwordHash: 'h' }, T0);
      // Back to before 0013, where the race could store them.
      const down = await migrateTo(db, backend, '0012_outbox_user');
      expect(down.error).toBeUndefined();
      // (Later migrations go down first; 0013 last.)
      expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('0013_one_totp_factor');

      await db
        .insertInto('mfa_factors')
        .values([
          factorRow(a.id, 'a-late', { created: T0, confirmed: T0 + 2000 }),
          factorRow(a.id, 'a-first', { created: T0 + 500, confirmed: T0 + 1000 }),
          factorRow(a.id, 'a-tie', { created: T0 + 600, confirmed: T0 + 1000 }),
          factorRow(a.id, 'a-pending-old', { created: T0 + 100, confirmed: null }),
          factorRow(a.id, 'a-pending-new', { created: T0 + 300, confirmed: null }),
          factorRow(b.id, 'b-app', { created: T0, confirmed: T0 + 10 }),
          factorRow(b.id, 'b-pending', { created: T0 + 20, confirmed: null }),
        ])
        .execute();
      await store.mfa.insertFactor({
        id: 'a-key',
        userId: a.id,
        kind: 'webauthn',
        name: 'key',
        credentialId: `cred-${randomUUID()}`,
        publicKey: 'pk',
        confirmedAt: T0,
      });
      expect(await store.mfa.claimTotpStep('a-late', 7)).toBe(true);
      await store.mfa.replaceRecoveryCodes(a.id, ['one', 'two', 'three']);

      // The next open applies 0013, as an upgrade does.
      await (await backend.open()).close();
      expect(await ids(store, a.id)).toEqual([
        'totp:a-first:confirmed',
        'totp:a-pending-new:pending',
        'webauthn:a-key:confirmed',
      ]);
      expect(await ids(store, b.id)).toEqual(['totp:b-app:confirmed', 'totp:b-pending:pending']);
      expect(await store.mfa.countRecoveryCodes(a.id)).toBe(3);
      expect(
        await db.selectFrom('mfa_used_steps').selectAll().where('factor_id', '=', 'a-late').execute(),
      ).toEqual([]);

      // From now on the schema holds it: no second confirmed app, no second pending enrolment.
      await expectConflict(store.mfa.confirmFactor(a.id, 'a-pending-new'));
      await expectConflict(
        store.mfa.insertFactor({ id: randomUUID(), userId: b.id, kind: 'totp', name: 'x' }),
      );
      expect(await ids(store, a.id)).toHaveLength(3);
    } finally {
      await db.destroy();
      await store.close();
    }
  });

  it('a confirmation meeting an app confirmed meanwhile is 409 ERR_MFA_ALREADY_ENROLLED; one set of codes', async () => {
    const store = await backend.open();
    try {
      const deps: FactorDeps = { store, secrets: createMfaSecrets(randomBytes(32)), clock: () => T0 };
      const user = await store.createUser({ email: `c-${randomUUID()}@example.com`, passwordHash: 'h' }, T0);
      const first = await startTotp(deps, user, 'Jot');
      const codes = await confirmTotp(deps, user, first.factorId, totpCode(base32Decode(first.secret), T0));
      expect(codes).toHaveLength(10);
      await expect(startTotp(deps, user, 'Jot')).rejects.toMatchObject({ code: 'ERR_MFA_ALREADY_ENROLLED' });

      // A pending enrolment beside the confirmed app (started before the app was confirmed, on another instance):
      for (const stale of [false, true]) {
        const pending = randomUUID();
        const secret = newTotpSecret();
        await store.mfa.insertFactor({
          id: pending,
          userId: user.id,
          kind: 'totp',
          name: 'x',
          secretCiphertext: deps.secrets.sealTotp(secret, { userId: user.id, factorId: pending }),
        });
        // stale: this request read the factors before the other app's confirmation, so only the index sees it.
        const seen: Store = stale ? withoutConfirmedFactors(store) : store;
        const refused = confirmTotp({ ...deps, store: seen }, user, pending, totpCode(secret, T0));
        await expect(refused).rejects.toMatchObject({ kind: 'conflict', code: 'ERR_MFA_ALREADY_ENROLLED' });
        expect(await ids(store, user.id)).toEqual([`totp:${first.factorId}:confirmed`]);
      }
      expect(await store.mfa.countRecoveryCodes(user.id)).toBe(10);
    } finally {
      await store.close();
    }
  });
});
