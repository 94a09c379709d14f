/** `jot sign` and `jot verify` round trips: every key source (JWK, PEM, JWKS file and URL, HMAC secret). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { listen, makeKeyDir, url, type KeyDir } from './fixtures.js';
import { errorLine, jot, NOW, type RunOptions } from './support.js';

let keys: KeyDir;
let dir: string;
let publicJwk: Record<string, unknown>;
const signed = (args: string[], options?: RunOptions): Promise<string> => keys.signed(args, options);

beforeAll(async () => {
  keys = await makeKeyDir();
  dir = keys.dir;
  publicJwk = keys.publicJwk;
});

describe('jot sign + verify', () => {
  it('round-trips claims through a JWK key file and prints them as verified', async () => {
    const token = await signed([
      '--key',
      'es.json',
      '--claims',
      '{"sub":"svc","scope":"read"}',
      '--iss',
      'https://a.test',
    ]);
    const result = await jot(
      ['verify', token, '--alg', 'ES256', '--key', 'es.pub.json', '--iss', 'https://a.test'],
      { cwd: dir },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('VERIFIED: signature (ES256, kid k1)');
    expect(result.stdout).toContain('"scope": "read"');
    expect(result.stdout).toContain(`exp       ${new Date(NOW.getTime() + 900_000).toISOString()}  (in 15m)`);
  });

  it('signs with the options it is given and verifies --json from stdin against a JWKS file', async () => {
    const token = await signed([
      '--key',
      'es.json',
      '--claims',
      '{"role":"x"}',
      '--exp',
      '2m',
      '--aud',
      'api-1',
      '--aud',
      'api-2',
      '--sub',
      'u1',
      '--typ',
      'at+jwt',
    ]);
    const result = await jot(
      ['verify', '-', '--alg', 'ES256', '--jwks', 'jwks.json', '--aud', 'api-2', '--typ', 'at+jwt', '--json'],
      {
        cwd: dir,
        stdin: `${token}\n`,
      },
    );
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.valid).toBe(true);
    expect(body.header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    expect(body.payload).toEqual({
      role: 'x',
      sub: 'u1',
      aud: ['api-1', 'api-2'],
      iat: NOW.getTime() / 1000,
      exp: NOW.getTime() / 1000 + 120,
    });
  });

  it('keeps an "exp" from the claims when --exp is not given', async () => {
    const exp = NOW.getTime() / 1000 + 30;
    const token = await signed(['--key', 'es.json', '--claims', JSON.stringify({ exp })]);
    const result = await jot(['decode', token, '--json']);
    expect(JSON.parse(result.stdout).payload.exp).toBe(exp);
  });

  it('reads claims from @file and @- (stdin)', async () => {
    writeFileSync(join(dir, 'claims.json'), '{"sub":"from-file"}');
    const fromFile = await signed(['--key', 'es.json', '--claims', '@claims.json']);
    const fromStdin = await signed(['--key', 'es.json', '--claims', '@-'], { stdin: '{"sub":"from-stdin"}' });
    expect(JSON.parse((await jot(['decode', fromFile, '--json'])).stdout).payload.sub).toBe('from-file');
    expect(JSON.parse((await jot(['decode', fromStdin, '--json'])).stdout).payload.sub).toBe('from-stdin');
  });

  it('signs with a PEM key given --alg and --kid, and verifies against the public PEM', async () => {
    const token = await signed(['--key', 'rs.pem', '--alg', 'PS256', '--kid', 'rsa-1', '--claims', '{}']);
    const result = await jot(['verify', token, '--alg', 'RS256,PS256', '--key', 'rs.pub.pem', '--json'], {
      cwd: dir,
    });
    expect(JSON.parse(result.stdout).header).toMatchObject({ alg: 'PS256', kid: 'rsa-1' });
  });

  it('signs and verifies with an HMAC secret from the environment', async () => {
    const secret = (await jot(['secret'])).stdout.trim();
    const env = { JWT_SECRET: secret };
    const token = await signed(['--secret-env', 'JWT_SECRET', '--claims', '{"sub":"svc"}'], { env });
    const result = await jot(['verify', '-', '--alg', 'HS256', '--secret-env', 'JWT_SECRET'], {
      env,
      stdin: token,
    });
    expect(result.code).toBe(0);
    const wrong = await jot(['verify', token, '--alg', 'HS256', '--secret-env', 'OTHER'], {
      env: { OTHER: (await jot(['secret'])).stdout.trim() },
    });
    expect(wrong.code).toBe(1);
    expect(errorLine(wrong)).toBe('jot: ERR_JWS_SIGNATURE_INVALID: signature verification failed');
  });

  it('fetches a JWKS over http', async () => {
    const server = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    try {
      const token = await signed(['--key', 'es.json', '--claims', '{"sub":"x"}']);
      const result = await jot(['verify', token, '--alg', 'ES256', '--jwks', `${url(server)}/jwks.json`]);
      expect(result.code).toBe(0);
    } finally {
      server.close();
    }
  });
});

describe('jot sign failures', () => {
  it('refuses a public key', async () => {
    const result = await jot(['sign', '--key', 'es.pub.json', '--claims', '{}'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe(
      'jot: ERR_CLI_USAGE: "es.pub.json" holds a public key; signing needs the private key',
    );
  });

  it('asks for --alg when the key allows several, and refuses one of another family', async () => {
    const ambiguous = await jot(['sign', '--key', 'rs.pem', '--claims', '{}'], { cwd: dir });
    expect(errorLine(ambiguous)).toMatch(
      /^jot: ERR_CLI_USAGE: this key can sign RS256, .*; choose one with --alg$/,
    );
    const wrong = await jot(['sign', '--key', 'es.json', '--alg', 'RS256', '--claims', '{}'], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(errorLine(wrong)).toMatch(/^jot: ERR_KEY_INVALID: /);
  });

  it('rejects claims that are not a JSON object, or have a bad "exp"', async () => {
    for (const [claims, message] of [
      ['{sub:1}', '--claims is not valid JSON'],
      ['[1]', '--claims must be a JSON object'],
      ['{"exp":"tomorrow"}', '"exp" must be a finite number'],
    ] as const) {
      const result = await jot(['sign', '--key', 'es.json', '--claims', claims], { cwd: dir });
      expect(result.code).toBe(2);
      expect(errorLine(result)).toContain(`jot: ERR_CLI_USAGE: ${message}`);
    }
  });

  it('rejects a bad --exp before reading any key', async () => {
    const result = await jot(['sign', '--key', 'missing.json', '--claims', '{}', '--exp', 'soon']);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(/^jot: ERR_CLI_USAGE: .*expected a duration/);
  });
});
