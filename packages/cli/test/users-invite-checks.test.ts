/**
 * `jot users invite` applies the admin API's checks: an address that already has an account is refused with the
 * API's code (ERR_EMAIL_TAKEN) and nothing is queued; a malformed address is a usage error.
 */
import { describe, expect, it } from 'vitest';

import { errorLine, jot, serverEnv, tempDir } from './support.js';

const PASSWORD = 'correct horse battery';

describe('jot users invite', () => {
  it('refuses an address that already has an account (any case) and queues no mail', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { PW: PASSWORD });
    expect(
      // --verified: the account's own verification link would otherwise be in the outbox.
      (
        await jot(['users', 'add', '--email', 'ada@example.com', '--verified', '--password-env', 'PW'], {
          env,
          cwd: dir,
        })
      ).code,
    ).toBe(0);
    const r = await jot(['users', 'invite', 'Ada@Example.com'], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_EMAIL_TAKEN: /);
    const outbox = await jot(['outbox', 'list', '--json'], { env, cwd: dir });
    expect((JSON.parse(outbox.stdout) as { messages: unknown[] }).messages).toEqual([]);
  });

  it('a malformed address is a usage error, not ERR_CLI_UNEXPECTED', async () => {
    const dir = tempDir();
    const r = await jot(['users', 'invite', 'not-an-email'], { env: serverEnv(dir), cwd: dir });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_CLI_USAGE: /);
  });
});
