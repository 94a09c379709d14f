/**
 * Credentials in the token endpoint URL never reach an error message: `user:password@` in `tokenEndpoint` is a
 * `TypeError` when the helper is built, in a discovered `token_endpoint` an `ERR_SERVICE_DISCOVERY` (as is one that
 * is not an http(s) URL), and a token endpoint that does not answer is shown as origin and path only (no query).
 */
import { describe, expect, it } from 'vitest';

import { createServiceClient, isServiceError } from '../src/index.js';

const ISSUER = 'https://auth.example.com';

function metadata(tokenEndpoint: string): Response {
  return new Response(JSON.stringify({ issuer: ISSUER, token_endpoint: tokenEndpoint }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}

describe('credentials in the token endpoint URL', () => {
  it('refuses user:password@ in tokenEndpoint when the helper is built, without repeating it', () => {
    for (const tokenEndpoint of [
      'https://proxyuser:pr0xy-s3cret@127.0.0.1:9/oauth/token',
      'https://pr0xy-s3cret@127.0.0.1:9/oauth/token',
    ]) {
      let thrown: unknown;
      try {
        createServiceClient({
          issuer: ISSUER,
          tokenEndpoint,
          clientId: 'billing',
          clientSecret: 's'.repeat(40),
        });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toMatch(/tokenEndpoint/);
      expect((thrown as Error).message).not.toContain('pr0xy-s3cret');
    }
  });

  it('refuses a discovered token_endpoint with user:password@ (ERR_SERVICE_DISCOVERY)', async () => {
    const requested: string[] = [];
    const service = createServiceClient({
      issuer: ISSUER,
      clientId: 'billing',
      clientSecret: 's'.repeat(40),
      fetch: (input) => {
        requested.push(input);
        return Promise.resolve(metadata('https://proxyuser:pr0xy-s3cret@auth.example.com/oauth/token'));
      },
    });
    const err = await service.token().catch((e: unknown) => e);
    expect(isServiceError(err, 'ERR_SERVICE_DISCOVERY')).toBe(true);
    expect((err as Error).message).not.toContain('pr0xy-s3cret');
    expect(requested).toEqual([`${ISSUER}/.well-known/oauth-authorization-server`]);
  });

  it('refuses a token endpoint that is not an http(s) URL, configured (TypeError) or discovered', async () => {
    for (const tokenEndpoint of ['ftp://auth.example.com/token', 'not a url']) {
      expect(() =>
        createServiceClient({ issuer: ISSUER, tokenEndpoint, clientId: 'billing', clientSecret: 'x' }),
      ).toThrow(TypeError);
      const service = createServiceClient({
        issuer: ISSUER,
        clientId: 'billing',
        clientSecret: 'x',
        fetch: () => Promise.resolve(metadata(tokenEndpoint)),
      });
      await expect(service.token()).rejects.toMatchObject({ code: 'ERR_SERVICE_DISCOVERY' });
    }
  });

  it('names a token endpoint that does not answer by origin and path only', async () => {
    const down = () => Promise.reject(new TypeError('fetch failed'));
    const configured = createServiceClient({
      issuer: ISSUER,
      tokenEndpoint: 'http://127.0.0.1:9/oauth/token?tenant=t3nant-k3y',
      clientId: 'billing',
      clientSecret: 's'.repeat(40),
      fetch: down,
    });
    const err = (await configured.token().catch((e: unknown) => e)) as Error;
    expect(isServiceError(err, 'ERR_SERVICE_UNAVAILABLE')).toBe(true);
    expect(err.message).toContain('http://127.0.0.1:9/oauth/token');
    expect(err.message).not.toContain('t3nant-k3y');
    const discovered = createServiceClient({
      issuer: ISSUER,
      clientId: 'billing',
      clientSecret: 's'.repeat(40),
      fetch: (input) =>
        input.includes('/.well-known/')
          ? Promise.resolve(metadata(`${ISSUER}/oauth/token?tenant=t3nant-k3y`))
          : down(),
    });
    const err2 = (await discovered.token().catch((e: unknown) => e)) as Error;
    expect(isServiceError(err2, 'ERR_SERVICE_UNAVAILABLE')).toBe(true);
    expect(err2.message).toContain(`${ISSUER}/oauth/token`);
    expect(err2.message).not.toContain('t3nant-k3y');
  });
});
