/**
 * The authenticating fetch refreshes and sends again only for a 401 about the access token itself (RFC 6750 §3.1): a
 * `Bearer`/`DPoP` challenge with `error="invalid_token"` or no error, or — without a challenge the page can read — a
 * JSON body whose `code` is a token error (expired, revoked, no token, session ended). Any other 401, such as a
 * wrong second-factor code, goes to the caller untouched: a refresh cannot answer it, and sending it again would
 * spend a second attempt and rotate the refresh token for nothing.
 */
import { describe, expect, it } from 'vitest';

import { JotClientError } from '../src/index.js';
import { fakeSessionPerTest } from './support/fake-session.js';

const fake = fakeSessionPerTest();
const PATH = '/api/thing';

/** A fetch that answers the first request to {@link PATH} with `refusal`, later ones with 200. */
function refusingOnce(refusal: () => Response) {
  let refused = false;
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (new URL(request.url).pathname !== PATH) return fake.server.fetch(input, init);
    fake.server.calls.push(`${request.method} ${PATH}`);
    if (refused) return Response.json({ ok: true });
    refused = true;
    return refusal();
  };
}

function answer(body: Record<string, unknown>, challenge?: string): () => Response {
  return () =>
    Response.json(body, {
      status: 401,
      headers: challenge === undefined ? {} : { 'www-authenticate': challenge },
    });
}

const body = (code: string, error = 'invalid_token') => ({ error, error_description: 'refused', code });

describe('a 401 about the access token: one refresh, one retry', () => {
  it.each([
    [
      'Bearer invalid_token challenge',
      answer(body('ERR_JWT_EXPIRED'), 'Bearer realm="jot", error="invalid_token"'),
    ],
    [
      'bare Bearer challenge (no credentials)',
      answer(body('ERR_AUTH_REQUIRED', 'invalid_request'), 'Bearer realm="jot"'),
    ],
    [
      'DPoP invalid_token challenge',
      answer(body('ERR_TOKEN_REVOKED'), 'DPoP algs="ES256", error="invalid_token"'),
    ],
    ['no readable challenge, code ERR_JWT_EXPIRED', answer(body('ERR_JWT_EXPIRED'))],
    ['no readable challenge, code ERR_TOKEN_REVOKED', answer(body('ERR_TOKEN_REVOKED'))],
    ['no readable challenge, code ERR_AUTH_REQUIRED', answer(body('ERR_AUTH_REQUIRED', 'invalid_request'))],
    ['no readable challenge, code ERR_SESSION_ENDED', answer(body('ERR_SESSION_ENDED', 'invalid_grant'))],
    ['no readable challenge, error invalid_token', answer({ error: 'invalid_token' })],
  ])('%s', async (_, refusal) => {
    fake.bearer({ fetch: refusingOnce(refusal) });
    await fake.client.login('a@b.c', 'pw');
    const res = await fake.client.fetch(PATH, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(fake.server.count(`POST ${PATH}`)).toBe(2);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
  });
});

describe('any other 401: handed to the caller untouched', () => {
  it.each([
    ['a wrong second-factor code (no challenge)', answer(body('ERR_MFA_CODE_INVALID', 'invalid_grant'))],
    [
      'a challenge naming another error',
      answer(body('ERR_JWT_EXPIRED'), 'Bearer realm="jot", error="invalid_request", error_description="x"'),
    ],
    ['a passkey that does not verify', answer(body('ERR_PASSKEY_INVALID', 'invalid_grant'))],
    ['wrong credentials', answer(body('ERR_INVALID_CREDENTIALS', 'invalid_grant'))],
  ])('%s', async (_, refusal) => {
    fake.bearer({ fetch: refusingOnce(refusal) });
    await fake.client.login('a@b.c', 'pw');
    const res = await fake.client.fetch(PATH, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.bodyUsed).toBe(false);
    expect(await res.json()).toHaveProperty('code');
    expect(fake.server.count(`POST ${PATH}`)).toBe(1);
    expect(fake.server.count('POST /api/token/refresh')).toBe(0);
    expect(fake.client.signedIn).toBe(true);
  });

  it('confirmTotp with a wrong code (answered 401 by an older server): thrown once, no refresh', async () => {
    let sent = 0;
    fake.bearer({
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (new URL(request.url).pathname !== '/api/mfa/totp/confirm') return fake.server.fetch(input, init);
        sent++;
        return answer(body('ERR_MFA_CODE_INVALID', 'invalid_grant'))();
      },
    });
    await fake.client.login('a@b.c', 'pw');
    const err = await fake.client.confirmTotp('f1', '000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JotClientError);
    expect(err).toMatchObject({ code: 'ERR_MFA_CODE_INVALID', status: 401 });
    expect(sent).toBe(1);
    expect(fake.server.count('POST /api/token/refresh')).toBe(0);
  });
});
