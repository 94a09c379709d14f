/**
 * How `describeFailure` (src/errors.ts) turns what a command throws into `jot: <CODE>: <message>` and an exit code:
 * a `CliError` keeps the exit code it was raised with, whatever its code (a failed token check is exit 1 even though
 * its code is a JOSE one); a `JoseError` escaping a command is exit 2 with its code; the server's errors are told by
 * their registered code (the server is loaded per command, lib/server.ts, so not by class) and are exit 2; any other
 * error — one carrying Node's own `ERR_` code too — is `ERR_CLI_UNEXPECTED`.
 */
import { describe, expect, it } from 'vitest';

import { decodeUnverified, JoseError } from '@jot/jose';
import { loadConfig, StoreError } from '@jot/server';

import { CliError, describeFailure, EXIT, formatFailure } from '../src/errors.js';
import { tempDir } from './support.js';

/** What `run` throws. */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('a failure classified by its code', () => {
  it('keeps a CliError at its own exit code, also one carrying a JOSE code: a failed check exits 1, not 2', () => {
    // What `jot verify` throws for an expired token (commands/verify.ts).
    const expired = describeFailure(
      new CliError('ERR_JWT_EXPIRED', 'the token has expired (exp)', EXIT.checkFailed),
    );
    expect(expired).toEqual({ code: 'ERR_JWT_EXPIRED', message: 'the token has expired (exp)', exitCode: 1 });
    expect(formatFailure(expired)).toBe('jot: ERR_JWT_EXPIRED: the token has expired (exp)');
    expect(describeFailure(new CliError('ERR_CLI_ABORTED', 'cancelled', EXIT.aborted))).toEqual({
      code: 'ERR_CLI_ABORTED',
      message: 'cancelled',
      exitCode: 130,
    });
  });

  it('reports a JoseError that escapes a command with its code and claim, exit 2', () => {
    const malformed = thrownBy(() => decodeUnverified('not-a-jwt'));
    expect(malformed).toBeInstanceOf(JoseError);
    const failure = describeFailure(malformed);
    expect(failure).toMatchObject({ code: 'ERR_JWS_INVALID', exitCode: 2 });
    expect(formatFailure(failure)).toMatch(/^jot: ERR_JWS_INVALID: \S/);
    expect(describeFailure(new JoseError('ERR_KEY_INVALID', 'the key is too small', { claim: 'n' }))).toEqual(
      { code: 'ERR_KEY_INVALID', message: 'the key is too small (n)', exitCode: 2 },
    );
  });

  it("reports the server's errors by their code, exit 2", () => {
    const config = describeFailure(
      thrownBy(() => loadConfig({ env: { JOT_PORT: 'eighty' }, cwd: tempDir() })),
    );
    expect(config).toEqual({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringMatching(/^JOT_PORT is invalid: /),
      exitCode: 2,
    });
    expect(formatFailure(config)).toMatch(/^jot: ERR_CONFIG_INVALID: JOT_PORT is invalid: /);
    const store = describeFailure(new StoreError('ERR_STORE_UNAVAILABLE', 'the database does not answer'));
    expect(formatFailure(store)).toBe('jot: ERR_STORE_UNAVAILABLE: the database does not answer');
    expect(store.exitCode).toBe(2);
  });

  it("reports an error carrying Node's own ERR_ code as ERR_CLI_UNEXPECTED, not as a Jot code", () => {
    // Regression: every `ERR_`-prefixed code passed as one of Jot's, so `jot` printed codes docs/errors.md lacks.
    const invalidUrl = thrownBy(() => new URL('not a url'));
    expect(invalidUrl).toMatchObject({ code: 'ERR_INVALID_URL' });
    const failure = describeFailure(invalidUrl);
    expect(failure).toEqual({ code: 'ERR_CLI_UNEXPECTED', message: 'Invalid URL', exitCode: 2 });
    expect(formatFailure(failure)).toBe('jot: ERR_CLI_UNEXPECTED: Invalid URL');
  });
});
