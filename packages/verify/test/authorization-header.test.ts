/**
 * The one parser of `Authorization` for the server's routes and every adapter (RFC 6750 §2.1, RFC 7235 §2.1,
 * RFC 9449 §7.1): which spellings carry a token, which are another scheme (no credentials, RFC 6750 §3.1), and which
 * are malformed (400 `ERR_AUTH_MALFORMED`).
 */
import { describe, expect, it } from 'vitest';

import { extractToken, isVerifyError, parseAuthorization } from '../src/index.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_';

function codeOf(header: string): string {
  try {
    parseAuthorization(header);
    return 'parsed';
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
}

describe('parseAuthorization', () => {
  it.each([
    [`Bearer ${TOKEN}`, 'bearer'],
    [`bearer ${TOKEN}`, 'bearer'],
    [`BEARER ${TOKEN}`, 'bearer'],
    [`Bearer    ${TOKEN}`, 'bearer'],
    [`Bearer ${TOKEN}  `, 'bearer'],
    [`DPoP ${TOKEN}`, 'dpop'],
    [`dpop ${TOKEN}`, 'dpop'],
    ['Bearer abc==', 'bearer'],
  ])('%s carries the token (via %s)', (header, via) => {
    expect(parseAuthorization(header)).toEqual({ token: header.trim().split(/ +/)[1], via });
  });

  it.each(['Basic dXNlcjpwYXNz', 'Digest username="a"', 'Token abc', `Bearer\t${TOKEN}`, '', 'Bearerabc'])(
    '%j is another scheme (or no credentials syntax): no token, no error',
    (header) => {
      expect(parseAuthorization(header)).toBeUndefined();
    },
  );

  it.each(['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', 'Bearer token="abc"', 'Bearer ab=c', 'DPoP %%%'])(
    '%j is malformed: ERR_AUTH_MALFORMED',
    (header) => {
      expect(codeOf(header)).toBe('ERR_AUTH_MALFORMED');
    },
  );
});

describe('extractToken', () => {
  const cookie = `jot_at=${TOKEN}`;

  it('takes the header first and never falls back to the cookie, whatever the header holds', () => {
    expect(extractToken({ headers: { authorization: `Bearer ${TOKEN}`, cookie } }, ['jot_at']).via).toBe(
      'bearer',
    );
    expect(() => extractToken({ headers: { authorization: 'Basic eA==', cookie } }, ['jot_at'])).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_REQUIRED', status: 401, reason: 'scheme' }),
    );
    expect(() => extractToken({ headers: { authorization: 'Bearer a b', cookie } }, ['jot_at'])).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_MALFORMED', status: 400, error: 'invalid_request' }),
    );
  });

  it('reads the first listed cookie, and nothing when cookies are off or absent', () => {
    expect(extractToken({ headers: { cookie: `a=1; ${cookie}` } }, ['__Host-jot_at', 'jot_at'])).toEqual({
      token: TOKEN,
      via: 'cookie',
    });
    expect(() => extractToken({ headers: { cookie } }, [])).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_REQUIRED', reason: 'missing' }),
    );
    expect(() => extractToken({ headers: new Headers() }, ['jot_at'])).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_REQUIRED', error: 'invalid_request' }),
    );
  });
});

describe('repeated Authorization headers (a singleton field, RFC 9110 §5.3)', () => {
  const duplicate = expect.objectContaining({
    code: 'ERR_AUTH_MALFORMED',
    status: 400,
    error: 'invalid_request',
    reason: 'duplicate',
  });
  const lines = ['Authorization', `Bearer ${TOKEN}`, 'authorization', 'Bearer garbage'];

  it('node:http and Express (rawHeaders): refused, although headers holds only the first', () => {
    const request = { headers: { authorization: `Bearer ${TOKEN}` }, rawHeaders: lines };
    expect(() => extractToken(request, [])).toThrow(duplicate);
  });

  it('Fastify (raw.rawHeaders): refused', () => {
    const request = { headers: { authorization: `Bearer ${TOKEN}` }, raw: { rawHeaders: lines } };
    expect(() => extractToken(request, [])).toThrow(duplicate);
  });

  it('headers with an array value (headersDistinct-like): refused', () => {
    const request = { headers: { authorization: [`Bearer ${TOKEN}`, 'Basic eA=='] } };
    expect(() => extractToken(request, [])).toThrow(duplicate);
  });

  it('a second scheme first is refused as a duplicate too, not as "another scheme"', () => {
    const request = {
      headers: { authorization: 'Basic eA==' },
      rawHeaders: ['authorization', 'Basic eA==', 'AUTHORIZATION', `Bearer ${TOKEN}`],
    };
    expect(() => extractToken(request, [])).toThrow(duplicate);
  });

  it('one line, among other headers, is read as before', () => {
    const request = {
      headers: { authorization: `Bearer ${TOKEN}` },
      rawHeaders: ['Host', 'x', 'Authorization', `Bearer ${TOKEN}`, 'Cookie', 'a=1'],
    };
    expect(extractToken(request, [])).toEqual({ token: TOKEN, via: 'bearer' });
  });

  it('Web Headers join repeats into one value: a joined Bearer is malformed (a token68 has no comma)', () => {
    const headers = new Headers([
      ['authorization', `Bearer ${TOKEN}`],
      ['authorization', 'Bearer garbage'],
    ]);
    expect(() => extractToken({ headers }, [])).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_MALFORMED', status: 400 }),
    );
  });
});
