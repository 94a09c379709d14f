/**
 * Regression: a `JOT_DATABASE_URL` naming a certificate file that is not there (`?sslrootcert=/nope/ca.pem`, or
 * `sslcert`, `sslkey`) made `jot-server` fail with pg's bare "ERR_STORE_MIGRATION: database migration failed: ENOENT:
 * no such file or directory, open '/nope/ca.pem'", naming neither the variable nor the parameter. It now stops at the
 * configuration check like any other bad setting: exit 2 and ERR_CONFIG_INVALID's message naming JOT_DATABASE_URL,
 * the parameter and the path, never the password. Through the built `jot-server`; no database is needed, since
 * nothing connects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  cleanup,
  requireBuiltServer,
  runServerToExit,
  serverEnv,
  START_DEADLINE_MS,
} from './support/processes.js';

afterAll(cleanup);

describe(
  'jot-server with a JOT_DATABASE_URL naming a missing certificate file',
  { timeout: START_DEADLINE_MS + 20_000 },
  () => {
    beforeAll(() => requireBuiltServer());

    it('exits 2 with a configuration error naming the variable, the parameter and the path, without the password', async () => {
      const r = await runServerToExit(
        serverEnv({
          JOT_DATABASE_URL:
            'postgres://jot:S3cretPw@127.0.0.1:5432/jot?sslmode=verify-full&sslkey=/nonexistent/k.pem',
        }),
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'jot-server: configuration error: JOT_DATABASE_URL is invalid: its sslkey parameter names /nonexistent/k.pem, ' +
          'which does not exist (ENOENT)',
      );
      expect(r.stderr).not.toContain('no such file or directory');
      expect(r.stderr + r.stdout).not.toContain('S3cret');
    });
  },
);
