/**
 * Regression (operator walkthrough 2026-12-02): a database command with a PostgreSQL URL naming a role or a database
 * that does not exist printed `jot: ERR_STORE_MIGRATION: database migration failed` — nothing had connected. It now
 * prints the refusal's code and PostgreSQL's reason, never the URL's password. Against the local PostgreSQL
 * (`JOT_TEST_DATABASE_URL` or 127.0.0.1:5432).
 */
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { errorLine, jot, serverEnv, tempDir } from './support.js';

const base = new URL(process.env.JOT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const suffix = (): string => randomBytes(4).toString('hex');

describe('database commands against a PostgreSQL that refuses the URL', () => {
  it('name a role that does not exist, without the password', async () => {
    const url = new URL(base);
    url.username = `jot_norole_${suffix()}`;
    url.password = 'hunter2-SECRET';
    const dir = tempDir();
    const r = await jot(['users', 'list'], { env: serverEnv(dir, { JOT_DATABASE_URL: url.href }), cwd: dir });
    expect(r.code).not.toBe(0);
    expect(errorLine(r)).toMatch(
      new RegExp(`^jot: ERR_STORE_REFUSED: .*role "${url.username}" does not exist \\(SQLSTATE 28000\\)`),
    );
    expect(r.stderr).not.toContain('SECRET');
  });

  it('name a database that does not exist', async () => {
    const url = new URL(base);
    const name = `jot_nodb_${suffix()}`;
    url.pathname = `/${name}`;
    const dir = tempDir();
    const r = await jot(['keys', 'list'], { env: serverEnv(dir, { JOT_DATABASE_URL: url.href }), cwd: dir });
    expect(r.code).not.toBe(0);
    // The role of the URL may be missing on this machine too; then that is the refusal named.
    expect(errorLine(r)).toMatch(
      new RegExp(
        `^jot: ERR_STORE_REFUSED: the database refused the connection: (database "${name}"|role ".+") does not exist`,
      ),
    );
  });
});
