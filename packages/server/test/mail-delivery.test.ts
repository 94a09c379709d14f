/**
 * Mail delivery against a real SMTP server started by the test: a password-reset message arrives with a link into
 * the configured web UI that works once; with the mail server down the message waits in the outbox and is delivered
 * once it is back; and a server process killed with a message pending delivers it after a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { freePort, START_DEADLINE_MS, startBin, type BinProcess } from './support/bin-process.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(async () => {
  await smtp.stop();
});

/** Polls `check` until it returns a value (deadline), for conditions another process brings about. */
async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const to = (address: string) => (mail: { to: string[]; subject: string }) =>
  mail.to.includes(address) && /reset your password/i.test(mail.subject);

describe('over SMTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      smtpUrl: smtp.url,
      publicUrl: 'https://ui.example.test/console',
      mailFrom: 'Jot Test <jot@example.test>',
      mailRetryBase: '1s',
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('delivers the reset message with a link into the public web UI; the link works once and ends every session', async () => {
    const user = await signUp(server, 'ada@example.com');
    const forgot = await server.request('POST', '/api/password/forgot', {
      body: { email: 'Ada@Example.com' },
    });
    expect(forgot.status).toBe(202);
    const mail = await smtp.waitFor(to('ada@example.com'));
    expect(mail.from).toBe('jot@example.test');
    expect(mail.messageId).toMatch(/^<[0-9a-f-]+@jot>$/);
    const link = linkIn(mail);
    expect(link.startsWith('https://ui.example.test/console/#/reset-password?token=')).toBe(true);
    expect(mail.html).toContain('https://ui.example.test/console/#/reset-password?token=');

    const reset = await server.request('POST', '/api/password/reset', {
      body: { token: tokenIn(link), new_password: 'a brand new passphrase' },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ status: 'reset', email: 'ada@example.com' });
    const again = await server.request('POST', '/api/password/reset', {
      body: { token: tokenIn(link), new_password: 'yet another passphrase' },
    });
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('ERR_LINK_USED');
    // Every session ended: the old access and refresh tokens are dead.
    expect((await server.request('GET', '/api/whoami', { token: user.access_token })).status).toBe(401);
    const refresh = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: user.refresh_token },
    });
    expect(refresh.status).toBe(401);
    const login = await server.request('POST', '/api/login', {
      body: { email: 'ada@example.com', password: 'a brand new passphrase' },
    });
    expect(login.status).toBe(200);
    await smtp.waitFor((m) => m.to.includes('ada@example.com') && /was reset/i.test(m.subject));
  });

  it('keeps the message while the mail server is down and delivers it once it is back', async () => {
    await signUp(server, 'grace@example.com');
    await smtp.stop();
    try {
      expect(
        (await server.request('POST', '/api/password/forgot', { body: { email: 'grace@example.com' } }))
          .status,
      ).toBe(202);
      const failed = await eventually(async () => {
        const rows = await server.app.jot.store.listOutbox({ limit: 50 });
        return rows.find(
          (r) => r.to === 'grace@example.com' && r.template === 'password-reset' && r.lastError,
        );
      });
      expect(failed.status).toBe('pending');
      expect(failed.attempts).toBeGreaterThanOrEqual(1);
    } finally {
      await smtp.start();
    }
    const mail = await smtp.waitFor(to('grace@example.com'), 30_000);
    expect(linkIn(mail)).toContain('#/reset-password?token=');
    // The SMTP server has the message before the worker records the delivery: wait for the row to say so.
    const sent = await eventually(async () => {
      const rows = await server.app.jot.store.listOutbox({ limit: 50 });
      const row = rows.find((r) => r.to === 'grace@example.com' && r.template === 'password-reset');
      return row?.status === 'sent' ? row : undefined;
    });
    expect(sent).toMatchObject({ status: 'sent', payload: '' });
    // Exactly one delivery for one request.
    expect(smtp.messages.filter(to('grace@example.com'))).toHaveLength(1);
  });
});

/** Two starts as slow as startBin allows, and a minute for the rest. */
const RESTART_TIMEOUT = 2 * START_DEADLINE_MS + 60_000;

describe('a server process killed with a message pending', { timeout: RESTART_TIMEOUT }, () => {
  // The built jot-server (as deployed), not the sources under vite-node: two starts of it cost a fraction.
  let child: BinProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-mail-kill-'));
  afterEach(async () => {
    await child?.kill();
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers it after a restart', async () => {
    const env = {
      NODE_ENV: 'test',
      JOT_DATA_DIR: dataDir,
      JOT_ISSUER: 'http://jot.test',
      JOT_LOG_LEVEL: 'silent',
      JOT_ARGON2_MEMORY_KIB: '1024',
      JOT_ARGON2_TIME_COST: '1',
      JOT_SIGNING_ALG: 'ES256',
      JOT_EMAIL_VERIFICATION: 'off',
      JOT_SMTP_URL: smtp.url,
      JOT_MAIL_RETRY_BASE: '1s',
    };
    await smtp.stop();
    try {
      child = await startBin(await freePort(), env);
      const post = async (path: string, body: unknown) =>
        fetch(child!.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect(
        (await post('/api/register', { email: 'lin@example.com', password: 'correct horse battery' })).status,
      ).toBe(201);
      expect((await post('/api/password/forgot', { email: 'lin@example.com' })).status).toBe(202);
      await child.kill();
      child = undefined;
    } finally {
      await smtp.start();
    }
    expect(smtp.messages.filter(to('lin@example.com'))).toHaveLength(0);
    child = await startBin(await freePort(), env);
    const mail = await smtp.waitFor(to('lin@example.com'), 30_000);
    expect(linkIn(mail)).toMatch(/^http:\/\/jot\.test\/#\/reset-password\?token=/);
  });
});
