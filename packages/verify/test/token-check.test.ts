/**
 * The token check waits only when something has to be waited for: with the keys loaded and the signature checked
 * inline it answers (or refuses) synchronously, so a guarded request costs no promise hops; before the keys are
 * loaded, on the thread pool and after an unknown `kid` it answers with a promise, with the same verdicts.
 */
import { isJoseError } from '@jot/jose';
import { WELL_KNOWN } from '@jot/contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createOffloadPolicy, type OffloadMode } from '../src/offload.js';
import { createRequestAuth } from '../src/request.js';
import { RemoteJWKS } from '../src/remote-jwks.js';
import { createTokenCheck } from '../src/token-check.js';
import { createRequestDPoP, VerifyError, type AccessTokenClaims } from '../src/index.js';
import { AUDIENCE, startFakeIssuer, type FakeIssuer } from '../../../test-support/fake-issuer.js';

let issuer: FakeIssuer;
const policies: { close(): void }[] = [];

beforeEach(async () => {
  issuer = await startFakeIssuer();
});

afterEach(async () => {
  for (const policy of policies.splice(0)) policy.close();
  await issuer.close();
});

function tokenCheck(offload: OffloadMode): { check: ReturnType<typeof createTokenCheck>; jwks: RemoteJWKS } {
  const jwks = new RemoteJWKS({ uri: `${issuer.url}${WELL_KNOWN.jwks}`, cooldown: 0 });
  const policy = createOffloadPolicy(offload);
  policies.push(policy);
  const check = createTokenCheck({
    issuer: issuer.url,
    audience: [AUDIENCE],
    algorithms: ['ES256', 'RS256', 'EdDSA'],
    profile: 'jot',
    clockTolerance: 0,
    maxTokenLength: 8192,
    jwks,
    cache: undefined,
    offload: policy,
    opener: undefined,
    clock: Date.now,
  });
  return { check, jwks };
}

/** Flips one bit of the signature, keeping its length. */
function tamper(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(s, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x01;
  return `${h}.${p}.${bytes.toString('base64url')}`;
}

describe('the token check', () => {
  it('answers synchronously once the keys are loaded and the check runs inline', async () => {
    const { check, jwks } = tokenCheck('never');
    await jwks.load();
    const claims = check(issuer.tokens.sign());
    expect(claims).not.toBeInstanceOf(Promise);
    expect((claims as AccessTokenClaims).sub).toBeTypeOf('string');
  });

  it('refuses a tampered or expired token synchronously on the inline path', async () => {
    const { check, jwks } = tokenCheck('never');
    await jwks.load();
    const now = Math.floor(Date.now() / 1000);
    const codeOf = (token: string): string => {
      try {
        return check(token) instanceof Promise ? 'waited' : 'accepted';
      } catch (err) {
        return isJoseError(err) ? err.code : String(err);
      }
    };
    expect(codeOf(tamper(issuer.tokens.sign()))).toBe('ERR_JWS_SIGNATURE_INVALID');
    expect(codeOf(issuer.tokens.sign({ iat: now - 7200, exp: now - 3600 }))).toBe('ERR_JWT_EXPIRED');
  });

  it('waits for the keys when none are loaded yet, then verifies', async () => {
    const { check } = tokenCheck('never');
    const pending = check(issuer.tokens.sign());
    expect(pending).toBeInstanceOf(Promise);
    expect((await pending).sub).toBeTypeOf('string');
  });

  it('answers with a promise on the thread pool, with the same verdicts', async () => {
    const { check, jwks } = tokenCheck('always');
    await jwks.load();
    const pending = check(issuer.tokens.sign());
    expect(pending).toBeInstanceOf(Promise);
    expect((await pending).sub).toBeTypeOf('string');
    await expect(check(tamper(issuer.tokens.sign()))).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_INVALID',
    });
  });

  it('refetches the keys for an unknown kid on the inline path and verifies a token of a rotated-in key', async () => {
    const { check, jwks } = tokenCheck('never');
    await jwks.load();
    const key = issuer.tokens.rotate({ activate: true });
    const pending = check(issuer.tokens.sign({}, { key }));
    expect(pending).toBeInstanceOf(Promise);
    expect((await pending).sub).toBeTypeOf('string');
  });
});

describe('request authentication with synchronous steps', () => {
  const auth = (verifyToken: (token: string) => AccessTokenClaims) =>
    createRequestAuth({
      verifyToken,
      checkRevocation: () => undefined,
      dpop: createRequestDPoP({}, Date.now, 5000),
      cookieNames: [],
    });
  const request = { headers: { authorization: 'Bearer abc.def.ghi' }, method: 'GET' };

  it('turns a synchronous throw of verifyToken into a refusal, never a thrown error', async () => {
    const refused = auth(() => {
      throw new VerifyError('ERR_VERIFY_KEYS_UNAVAILABLE', 'the issuer keys are not available');
    });
    const result = await refused.authenticate(request);
    expect(result.ok ? 'accepted' : result.error.code).toBe('ERR_VERIFY_KEYS_UNAVAILABLE');
  });

  it('waits for a verifyToken that answers with a thenable of another promise library', async () => {
    const claims = { sub: 'u', sid: 's', ver: 0, roles: [] } as unknown as AccessTokenClaims;
    const thenable = { then: (resolve: (value: AccessTokenClaims) => void) => resolve(claims) };
    const result = await auth(() => thenable as unknown as AccessTokenClaims).authenticate(request);
    expect(result.ok ? result.auth.claims.sub : result.error.code).toBe('u');
  });

  it('refuses a token that is not DPoP-bound when it comes as DPoP, synchronously checked', async () => {
    const claims = { sub: 'u', sid: 's', ver: 0, roles: [] } as unknown as AccessTokenClaims;
    const result = await auth(() => claims).authenticate({
      headers: { authorization: 'DPoP abc.def.ghi' },
      method: 'GET',
    });
    expect(result.ok ? 'accepted' : result.error.code).toBe('ERR_DPOP_KEY_MISMATCH');
    expect((await auth(() => claims).authenticate(request)).ok).toBe(true);
  });
});
