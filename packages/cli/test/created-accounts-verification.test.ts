/**
 * Accounts the CLI makes under `JOT_EMAIL_VERIFICATION=required`, checked through the real server on the same
 * database: `jot admin create` is verified from the start (as the `JOT_ADMIN_EMAIL` bootstrap admin), `jot users add`
 * sends the verification link through the outbox (here a development .eml file) unless `--verified` vouches for the
 * address. Regression: both used to leave the account unverified with no link, so it could never sign in.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServer, loadConfig } from '@jot/server';
import { linkIn, parseMail, tokenIn } from '../../server/test/support/smtp.js';
import { jot, serverEnv, tempDir } from './support.js';

const PASSWORD = 'correct horse battery';
const dataDir = tempDir();
const env = serverEnv(dataDir, { JOT_EMAIL_VERIFICATION: 'required', PW: PASSWORD });
let app: FastifyInstance;

const login = async (email: string): Promise<{ status: number; code?: string }> => {
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
  return { status: res.statusCode, code: res.json<{ code?: string }>().code };
};
const mailTo = (email: string): string[] => {
  const dir = join(dataDir, 'mail');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .filter((t) => t.includes(`To: ${email}`));
};

beforeAll(async () => {
  app = await createServer({ config: loadConfig({ env, file: false }), logger: false });
});
afterAll(async () => {
  await app.close();
});

describe('accounts the CLI creates under required email verification', () => {
  it('jot admin create: the admin is verified from the start and can sign in', async () => {
    const res = await jot(['admin', 'create', '--email', 'ops@example.com', '--password-env', 'PW'], { env });
    expect(res.code).toBe(0);
    expect(await login('ops@example.com')).toEqual({ status: 200 });
  });

  it('jot admin create on an unverified account makes it an admin that can sign in', async () => {
    const add = await jot(['users', 'add', '--email', 'later@example.com', '--password-env', 'PW'], { env });
    expect(add.code).toBe(0);
    expect((await login('later@example.com')).code).toBe('ERR_EMAIL_NOT_VERIFIED');
    expect((await jot(['admin', 'create', '--email', 'later@example.com'], { env })).code).toBe(0);
    expect(await login('later@example.com')).toEqual({ status: 200 });
  });

  it('jot users add: the address gets its verification link, and the account signs in once it is followed', async () => {
    const res = await jot(['users', 'add', '--email', 'ada@example.com', '--password-env', 'PW'], { env });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('a verification link was sent to ada@example.com');
    const [eml] = mailTo('ada@example.com');
    expect(eml).toBeDefined();
    const link = linkIn({ ...parseMail(eml!), to: ['ada@example.com'], from: '' });
    expect(link).toContain('/verify-email?token=');
    const token = tokenIn(link);
    expect((await login('ada@example.com')).code).toBe('ERR_EMAIL_NOT_VERIFIED');
    // The never-verified address is confirmed with the password the account was made with.
    const verify = await app.inject({
      method: 'POST',
      url: '/api/email/verify',
      payload: { token, password: PASSWORD },
    });
    expect(verify.statusCode).toBe(200);
    expect(await login('ada@example.com')).toEqual({ status: 200 });
  });

  it('jot users add --verified: verified from the start, no link sent', async () => {
    const res = await jot(
      ['users', 'add', '--email', 'bob@example.com', '--verified', '--password-env', 'PW'],
      {
        env,
      },
    );
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain('verification link');
    expect(await login('bob@example.com')).toEqual({ status: 200 });
    expect(mailTo('bob@example.com')).toEqual([]);
  });
});
