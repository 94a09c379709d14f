/** `jot verify` failures: exit 1 with the JOSE code for a bad token, exit 2 when the check cannot run. */
import { beforeAll, describe, expect, it } from 'vitest';

import { b64, listen, makeKeyDir, url, type KeyDir } from './fixtures.js';
import { errorLine, jot, NOW, type RunOptions } from './support.js';

const HOUR_LATER = new Date(NOW.getTime() + 3_600_000);
let keys: KeyDir;
let dir: string;
const signed = (args: string[], options?: RunOptions): Promise<string> => keys.signed(args, options);

beforeAll(async () => {
  keys = await makeKeyDir();
  dir = keys.dir;
});

describe('jot verify failures', () => {
  let token: string;
  beforeAll(async () => {
    token = await signed([
      '--key',
      'es.json',
      '--claims',
      '{"sub":"svc"}',
      '--iss',
      'https://a.test',
      '--exp',
      '5m',
    ]);
  });

  const verifyAt = (args: string[], now = NOW): ReturnType<typeof jot> =>
    jot(['verify', token, ...args], { cwd: dir, now });

  it('exits 1 with ERR_JWT_EXPIRED for an expired token, and --json says why', async () => {
    const result = await verifyAt(['--alg', 'ES256', '--key', 'es.pub.json', '--json'], HOUR_LATER);
    expect(result.code).toBe(1);
    expect(errorLine(result)).toBe('jot: ERR_JWT_EXPIRED: the token has expired (exp)');
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      code: 'ERR_JWT_EXPIRED',
      claim: 'exp',
      reason: 'expired',
    });
  });

  it('accepts the same token within --clock-tolerance', async () => {
    const result = await verifyAt(
      ['--alg', 'ES256', '--key', 'es.pub.json', '--clock-tolerance', '2h'],
      HOUR_LATER,
    );
    expect(result.code).toBe(0);
  });

  it('exits 1 with ERR_JWT_CLAIM_INVALID for the wrong issuer, audience or typ', async () => {
    for (const args of [
      ['--iss', 'https://b.test'],
      ['--aud', 'api'],
      ['--typ', 'at+jwt'],
    ]) {
      const result = await verifyAt(['--alg', 'ES256', '--key', 'es.pub.json', ...args]);
      expect(result.code).toBe(1);
      expect(errorLine(result)).toMatch(/^jot: ERR_JWT_CLAIM_INVALID: .*\((iss|aud|typ)\)$/);
    }
  });

  it('exits 1 with ERR_JOSE_ALG_NOT_ALLOWED when the token alg is not allowed', async () => {
    const result = await verifyAt(['--alg', 'RS256', '--jwks', 'jwks.json']);
    expect(result.code).toBe(1);
    expect(errorLine(result)).toMatch(/^jot: ERR_JOSE_ALG_NOT_ALLOWED: /);
  });

  it('exits 1 with ERR_JWS_SIGNATURE_INVALID for a tampered payload', async () => {
    const [h, , s] = token.split('.');
    const forged = `${h}.${b64({ sub: 'admin', iss: 'https://a.test', exp: 9e9 })}.${s}`;
    const result = await jot(['verify', forged, '--alg', 'ES256', '--key', 'es.pub.json'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(errorLine(result)).toMatch(/^jot: ERR_JWS_SIGNATURE_INVALID: /);
  });

  it('exits 1 with ERR_JWS_INVALID for something that is not a JWT', async () => {
    const result = await jot(['verify', 'not-a-token', '--alg', 'ES256', '--key', 'es.pub.json'], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(errorLine(result)).toMatch(/^jot: ERR_JWS_INVALID: /);
  });

  it('exits 2 for a missing key file, naming the file', async () => {
    const result = await verifyAt(['--alg', 'ES256', '--key', 'nope.pem']);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe(
      'jot: ERR_CLI_FILE_UNREADABLE: cannot read key file "nope.pem": no such file',
    );
  });

  it('exits 2 when no key source or several are given', async () => {
    for (const args of [[], ['--key', 'es.pub.json', '--jwks', 'jwks.json']]) {
      const result = await verifyAt(['--alg', 'ES256', ...args]);
      expect(result.code).toBe(2);
      expect(errorLine(result)).toMatch(/^jot: ERR_CLI_USAGE: pass exactly one of --jwks/);
    }
  });

  it('exits 2 with a usage error for a bad --alg', async () => {
    const bad = await verifyAt(['--alg', 'HS257', '--key', 'es.pub.json']);
    expect(bad.code).toBe(2);
    expect(errorLine(bad)).toMatch(
      /^jot: ERR_CLI_USAGE: option '--alg <alg>' argument 'HS257' is invalid\. unsupported algorithm/,
    );
  });

  it('takes the token after --alg too (--alg is not variadic, so it cannot swallow the token)', async () => {
    const result = await jot(['verify', '--alg', 'ES256', token, '--key', 'es.pub.json'], { cwd: dir });
    expect(result.code).toBe(0);
  });

  it('exits 2 when --secret-env names an unset variable, or holds a key instead of a secret', async () => {
    const unset = await verifyAt(['--alg', 'HS256', '--secret-env', 'JWT_SECRET']);
    expect(errorLine(unset)).toBe(
      'jot: ERR_CLI_ENV_MISSING: the environment variable JWT_SECRET (from --secret-env) is not set',
    );
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkw-not-really\n-----END PUBLIC KEY-----';
    const confused = await jot(['verify', token, '--alg', 'HS256', '--secret-env', 'S'], { env: { S: pem } });
    expect(confused.code).toBe(2);
    expect(errorLine(confused)).toMatch(/^jot: ERR_KEY_INVALID: /);
    expect(confused.stderr).not.toContain('MFkw');
  });

  it('exits 2 with ERR_CLI_JWKS_FETCH when the JWKS URL fails or times out', async () => {
    const notFound = await listen((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    const silent = await listen(() => undefined);
    try {
      const missing = await verifyAt(['--alg', 'ES256', '--jwks', `${url(notFound)}/jwks.json`]);
      expect(missing.code).toBe(2);
      expect(errorLine(missing)).toMatch(/^jot: ERR_CLI_JWKS_FETCH: .* answered HTTP 404$/);
      const slow = await verifyAt(['--alg', 'ES256', '--jwks', `${url(silent)}/jwks.json`, '--timeout', '1']);
      expect(slow.code).toBe(2);
      expect(errorLine(slow)).toMatch(/^jot: ERR_CLI_JWKS_FETCH: .*no answer within 1s$/);
    } finally {
      notFound.close();
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('never shows the password of a JWKS URL, even one holding an @', async () => {
    const result = await verifyAt(['--alg', 'ES256', '--jwks', 'http://ops:s3cr@t@127.0.0.1:9/jwks.json']);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe(
      'jot: ERR_CLI_USAGE: the JWKS URL http://127.0.0.1:9/jwks.json holds a user name or password: give a URL without credentials',
    );
    expect(result.stderr).not.toMatch(/s3cr|@t@/);
  });
});
