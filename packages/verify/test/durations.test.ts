/**
 * One rule for durations: a bare number is seconds in `@jot/verify` exactly as in `@jot/jose` (and the server's
 * configuration), strings such as `'500ms'` or `'5s'` mean the same everywhere, and a bad value is refused with
 * `@jot/jose`'s one message, naming the option.
 */
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';

import { KeySet, createVerifier as createJoseVerifier, importJWK, parseDuration } from '@jot/jose';

import { createVerifier, type AuthResult } from '../src/index.js';

const ISSUER = 'https://issuer.example';
const API = 'https://api.example';

async function issuer() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const fetchImpl = (url: string): Promise<Response> => {
    const json = (body: unknown) =>
      new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    if (url === `${ISSUER}/.well-known/openid-configuration`)
      return Promise.resolve(json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` }));
    if (url === `${ISSUER}/jwks`) return Promise.resolve(json({ keys: [jwk] }));
    return Promise.resolve(new Response('no', { status: 404 }));
  };
  /** A client-credentials-shaped RFC 9068 token that expired `agoSeconds` ago. */
  const expiredAgo = (agoSeconds: number) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: ISSUER,
      aud: API,
      sub: 'svc',
      client_id: 'svc',
      iat: now - 60,
      exp: now - agoSeconds,
      jti: `j${Math.random()}`,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .sign(privateKey);
  };
  return { jwk, fetchImpl, expiredAgo };
}

function code(result: AuthResult): string {
  return result.ok ? 'ok' : result.error.code;
}

describe('durations', () => {
  it('clockTolerance: 5 is five seconds in @jot/jose and @jot/verify alike (a token expired 3 s ago passes both)', async () => {
    const { jwk, fetchImpl, expiredAgo } = await issuer();
    const token = await expiredAgo(3);
    const joseCheck = (clockTolerance: number | string) => {
      const jose = createJoseVerifier(new KeySet([importJWK(jwk)]), {
        algorithms: ['ES256'],
        issuer: ISSUER,
        audience: API,
        clockTolerance,
      });
      try {
        jose(token);
        return 'ok';
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    const verifyCheck = (clockTolerance: number | string) =>
      createVerifier({
        issuer: ISSUER,
        audience: API,
        profile: 'rfc9068',
        revocation: 'none',
        clockTolerance,
        fetch: fetchImpl,
      })
        .authenticate({ method: 'GET', headers: { authorization: `Bearer ${token}` } })
        .then(code);

    expect(joseCheck(5)).toBe('ok');
    expect(await verifyCheck(5)).toBe('ok');
    expect(joseCheck('5s')).toBe('ok');
    expect(await verifyCheck('5s')).toBe('ok');
    // One second of tolerance is not enough, in either package.
    expect(joseCheck(1)).toBe('ERR_JWT_EXPIRED');
    expect(await verifyCheck(1)).toBe('ERR_JWT_EXPIRED');
    expect(await verifyCheck('1000ms')).toBe('ERR_JWT_EXPIRED');
  });

  it('refuses a bad duration with the shared parser’s message, naming the option', () => {
    let shared = '';
    try {
      parseDuration('5 parsecs');
    } catch (err) {
      shared = (err as Error).message;
    }
    expect(shared).toMatch(/invalid duration "5 parsecs"/);
    for (const bad of ['5 parsecs', -1, Number.NaN, '']) {
      expect(() =>
        createVerifier({ issuer: ISSUER, audience: API, revocation: 'none', clockTolerance: bad }),
      ).toThrow(TypeError);
    }
    expect(() =>
      createVerifier({ issuer: ISSUER, audience: API, revocation: 'none', clockTolerance: '5 parsecs' }),
    ).toThrow(`verify: "clockTolerance": ${shared}`);
  });
});
