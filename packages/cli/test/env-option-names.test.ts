/**
 * `--password-env` and `--secret-env` take the name of an environment variable. A value passed there by mistake
 * (`--password-env "$ADMIN_PASSWORD"`) is a usage error that never echoes the value back.
 */
import { describe, expect, it } from 'vitest';

import { errorLine, jot, serverEnv, tempDir } from './support.js';

describe('--password-env / --secret-env given a value instead of a name', () => {
  it('--password-env: ERR_CLI_USAGE, the value not printed', async () => {
    const dir = tempDir();
    const r = await jot(
      ['admin', 'create', '--email', 'ops@example.com', '--password-env', 'Hunter2-SECRET!'],
      {
        env: serverEnv(dir),
        cwd: dir,
      },
    );
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_CLI_USAGE: .*--password-env/);
    expect(r.stderr).not.toContain('Hunter2-SECRET!');
  });

  it('--secret-env: ERR_CLI_USAGE, the value not printed', async () => {
    const secret = 'oh-2Qs2vGTfmRFWA8iUKux5gLfJ_H7SrCdm9XCPNaYc';
    const r = await jot(['sign', '--secret-env', secret, '--claims', '{}'], { env: {} });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_CLI_USAGE: .*--secret-env/);
    expect(r.stderr).not.toContain(secret);
  });

  it('a valid name that is unset is still ERR_CLI_ENV_MISSING, naming the variable', async () => {
    const r = await jot(['sign', '--secret-env', 'JOT_TEST_UNSET_SECRET', '--claims', '{}'], { env: {} });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_CLI_ENV_MISSING: .*JOT_TEST_UNSET_SECRET/);
  });
});
