/**
 * Account deletion deletes the account's queued and sent messages (docs/accounts.md, "Deleting an account", step 3):
 * every outbox row the mailer queued about the account carries its id (`mail_outbox.user_id`, migration 0012), so
 * messages to a former address (before an email change), to a pending new address, or to an address the mailer
 * spells differently from the comparison key (IDN domain) go too; rows without an account (queued before 0012, an
 * invitation) are still matched by address, in either spelling, and another account's messages stay. The store part
 * on both backends. (Found by review: only rows to the current address's comparison key were deleted.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Store } from '../src/store/store.js';
import { followEmailChangeLink, signUp, startServer, type TestServer } from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';
import { onBothBackends } from './support/store-backends.js';

let smtp: TestSmtp;
let server: TestServer;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startServer({ smtpUrl: smtp.url, publicUrl: 'http://ui.test', mailRetryBase: '1s' });
  await signUp(server, 'first-admin@example.com'); // the first account is the admin; not the one deleted
});
afterAll(async () => {
  await server.close();
  await smtp.stop();
});

describe('account deletion removes the account’s messages', () => {
  it('also those sent to the address the account had before an email change, and to a pending new address', async () => {
    const user = await signUp(server, 'former@example.com');
    const after = smtp.messages.length;
    const asked = await server.request('POST', '/api/email/change', {
      token: user.access_token,
      body: { new_email: 'current@example.com' },
    });
    expect(asked.status).toBe(202);
    const confirm = await smtp.waitFor(
      (m) => m.to.includes('current@example.com') && smtp.messages.indexOf(m) >= after,
    );
    const done = await followEmailChangeLink(server, tokenIn(linkIn(confirm)));
    expect(done.status).toBe(200);
    // A second, never-confirmed change to yet another address.
    const login = await server.request('POST', '/api/login', {
      body: { email: 'current@example.com', password: 'correct horse battery' },
    });
    const pending = await server.request('POST', '/api/email/change', {
      token: login.body.access_token,
      body: { new_email: 'pending@example.com' },
    });
    expect(pending.status).toBe(202);

    const { store } = server.app.jot;
    const mine = async () =>
      (await store.listOutbox({ limit: 500 }))
        .map((m) => m.to)
        .filter((to) => ['former@example.com', 'current@example.com', 'pending@example.com'].includes(to));
    expect((await mine()).length).toBeGreaterThan(0);

    const deleted = await server.request('DELETE', '/api/account', { token: login.body.access_token });
    expect(deleted.status).toBe(204);
    expect(await store.getUserById(user.userId)).toBeUndefined();
    // The verification mail, the "about to change" and "was changed" notices to former@… and the confirmation
    // link to pending@….
    expect(await mine()).toEqual([]);
  });

  it('also for an address whose comparison key differs from the lower-cased form the mailer stores (IDN domain)', async () => {
    const user = await signUp(server, 'ada@bücher.example');
    const { store } = server.app.jot;
    const before = (await store.listOutbox({ limit: 500 })).filter((m) => m.to.startsWith('ada@'));
    expect(before.map((m) => m.to)).toContain('ada@bücher.example'); // stored as typed, lower-cased
    const deleted = await server.request('DELETE', '/api/account', { token: user.access_token });
    expect(deleted.status).toBe(204);
    // Its comparison key is 'ada@xn--bcher-kva.example'; the row carries the account's id.
    expect((await store.listOutbox({ limit: 500 })).filter((m) => m.to.startsWith('ada@'))).toEqual([]);
  });
});

const T0 = 1_800_000_000_000;

function storeSuite(name: string, open: () => Promise<Store>, teardown: () => Promise<void>): void {
  describe(`Store.deleteMailOf: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
      await teardown();
    });
    const row = (key: string, to: string, userId?: string) =>
      store.enqueueMail(
        { idempotencyKey: key, template: 't', to, payload: 'p', ...(userId ? { userId } : {}) },
        T0,
      );

    it('deletes the account’s rows by id, and rows without an account by either spelling of its address', async () => {
      await row('mine-former', 'former@example.com', 'user-a');
      await row('mine-pending', 'pending@example.com', 'user-a');
      await row('legacy-typed', 'ada@bücher.example');
      await row('legacy-key', 'ada@xn--bcher-kva.example');
      await row('other-account', 'ada@bücher.example', 'user-b');
      await row('other-address', 'someone@example.com');
      expect(await store.deleteMailOf({ id: 'user-a', email: 'Ada@Bücher.example' })).toBe(4);
      const left = (await store.listOutbox({ limit: 100 })).map((m) => [m.idempotencyKey, m.userId]);
      expect(left.sort()).toEqual([
        ['other-account', 'user-b'],
        ['other-address', null],
      ]);
    });
  });
}

await onBothBackends('Store.deleteMailOf', storeSuite);
