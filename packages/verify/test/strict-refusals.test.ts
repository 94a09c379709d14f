/**
 * `strict` introspection with `failOpen: true`: only an outage may accept a verified token unchecked — no answer at
 * all, or a server error that says so (500, 502, 503, 504, 408). Every other answer is a refusal and fails closed
 * with `ERR_VERIFY_REVOCATION_REFUSED`: a 4xx (rate limited, secret refused), a redirect, a 200 that is not an
 * introspection answer (a proxy's login page). Otherwise whoever can make the issuer or a proxy refuse would make
 * revoked tokens pass.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SECRET } from '../../../test-support/fake-issuer.js';
import { FetchError } from '../src/http.js';
import { isRefusal } from '../src/revocation/refusal.js';
import { codeOf } from './support/outcome.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';

type Answer = { status: number; type?: string; body?: string; location?: string };

let answer: Answer = { status: 200 };
let endpoint: Server;
let url = '';

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    req.resume();
    const headers: Record<string, string> = { 'content-type': answer.type ?? 'application/json' };
    if (answer.location !== undefined) headers.location = answer.location;
    res.writeHead(answer.status, headers).end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/api/introspect`;
});
afterAll(() => new Promise<void>((resolve) => endpoint.close(() => resolve())));

const setup = useIssuerVerifier();
const strict = (introspectionUrl = url) =>
  setup.build({ revocation: { strategy: 'strict', secret: SECRET, failOpen: true, introspectionUrl } });

describe('strict introspection with failOpen', () => {
  it.each<[string, Answer]>([
    ['a 429 (the caller budget spent)', { status: 429, body: '{"code":"ERR_RATE_LIMITED"}' }],
    ['a 401 (the secret refused)', { status: 401, body: '{"code":"ERR_FEED_AUTH"}' }],
    ['a 403', { status: 403, body: '{}' }],
    ['a redirect', { status: 302, location: 'https://elsewhere.example/login' }],
    ['a 200 that is a web page', { status: 200, type: 'text/html', body: '<html>sign in</html>' }],
    ['a 200 that is not a JSON object', { status: 200, body: '[true]' }],
  ])('refuses on %s, never accepting', async (_what, given) => {
    answer = given;
    const v = strict();
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
    expect(v.stats().revocation).toMatchObject({ failOpen: 0, failClosed: 1, stale: true });
  });

  it.each<[string, Answer]>([
    ['a 503', { status: 503, body: '{}' }],
    ['a 502', { status: 502, body: 'bad gateway' }],
    ['a 500', { status: 500, body: '{}' }],
    ['a 408', { status: 408, body: '' }],
  ])('accepts on %s (an outage), counted', async (_what, given) => {
    answer = given;
    const v = strict();
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('accepted');
    expect(v.stats().revocation).toMatchObject({ failOpen: 1, failClosed: 0 });
  });

  it('accepts when nothing answers (connection refused), and judges each answer after that', async () => {
    const v = strict('http://127.0.0.1:9/api/introspect');
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('accepted');
    answer = { status: 200, body: '{"active":false}' };
    const live = strict();
    expect(await codeOf(live.verify(setup.issuer.tokens.sign()))).toBe('ERR_TOKEN_REVOKED');
  });
});

describe('what counts as a refusal (shared by strict, Redis strict and the replicated feed)', () => {
  it('a redirect rejected by fetch, wrapped or not; never an outage whose URL merely says "redirect"', () => {
    const redirected = new TypeError('fetch failed', { cause: new Error('unexpected redirect') });
    expect(isRefusal(redirected)).toBe(true);
    expect(isRefusal(new FetchError('request to https://a.example/x failed', undefined, redirected))).toBe(
      true,
    );
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    expect(
      isRefusal(new FetchError('request to https://a.example/redirect failed', undefined, refused)),
    ).toBe(false);
    expect(isRefusal(new Error('socket hang up'))).toBe(false);
  });
});
