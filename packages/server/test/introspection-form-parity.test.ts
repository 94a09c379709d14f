/**
 * `POST /api/introspect` (the feed's clients) and `POST /oauth/introspect` read their form bodies with one parser
 * (http/oauth-form.ts), so they agree on what a form is: a parameter sent twice is refused before the caller's
 * credential is looked at — each in its own documented shape, 400 `invalid_request` with `ERR_VALIDATION` on
 * `/api/introspect` and `ERR_OAUTH_REQUEST` on `/oauth/introspect` — a parameter without a value counts as omitted
 * (RFC 6749 §3.1), `resource` may repeat, a form over `JOT_BODY_LIMIT` is 413 `ERR_BODY_TOO_LARGE`, and a `charset`
 * parameter on the media type changes nothing. The form is UTF-8, decoded strictly by both: a malformed
 * percent-escape or bytes that are not UTF-8 are a 400 (before, `URLSearchParams` kept `%zz` as text and made
 * `%FF` U+FFFD, so two different tokens or secrets could read as one), `+` is a space. Before, `/api/introspect` had a parser of its own that refused
 * `token=&token=<t>` (a parameter without a value, which RFC 6749 §3.1 treats as omitted) and a repeated `resource`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestResponse, TestServer } from './support/jot-server.js';
import { signUp } from './support/jot-server.js';
import { startIssuer } from './support/oauth.js';

const SECRET = 'p'.repeat(40);
/** Each endpoint with the `code` it documents for a malformed form. */
const ENDPOINTS = [
  ['/api/introspect', 'ERR_VALIDATION'],
  ['/oauth/introspect', 'ERR_OAUTH_REQUEST'],
] as const;

let server: TestServer;
let live: string;
beforeAll(async () => {
  server = await startIssuer({ bodyLimit: '2kb', revocationSecret: SECRET });
  live = (await signUp(server, 'parity@example.com')).access_token;
});
afterAll(async () => {
  await server?.close();
});

function post(
  path: string,
  raw: string,
  options: { contentType?: string; authorization?: string | null } = {},
): Promise<TestResponse> {
  const authorization = options.authorization === undefined ? `Bearer ${SECRET}` : options.authorization;
  return server.request('POST', path, {
    raw,
    contentType: options.contentType ?? 'application/x-www-form-urlencoded',
    headers: authorization === null ? {} : { authorization },
  });
}

/** Posts raw bytes as a form (the test server's `request` sends text only). */
async function postBytes(path: string, bytes: Uint8Array): Promise<TestResponse> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${SECRET}` },
    body: new Uint8Array(bytes),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
}

/** Forms whose bytes are not UTF-8: raw, or percent-escaped. */
const NOT_UTF8: readonly (readonly [string, Uint8Array])[] = [
  ['a raw 0xFF', Buffer.concat([Buffer.from('token='), Buffer.from([0xff])])],
  ['a raw overlong "/" (C0 AF)', Buffer.concat([Buffer.from('token=a'), Buffer.from([0xc0, 0xaf])])],
  ['a raw surrogate (ED A0 80)', Buffer.concat([Buffer.from('token=a'), Buffer.from([0xed, 0xa0, 0x80])])],
  ['a raw truncated sequence (E2 82)', Buffer.concat([Buffer.from('token=a'), Buffer.from([0xe2, 0x82])])],
  ['an escaped %FF', Buffer.from('token=%FF')],
  ['an escaped lone lead byte %C3', Buffer.from('token=a%C3')],
  ['an escaped surrogate %ED%A0%80', Buffer.from('token=%ED%A0%80')],
  ['an escaped 0xFF in a name', Buffer.from('tok%FFen=a')],
];

/** Forms with a percent-escape that is not "%" and two hexadecimal digits. */
const BAD_ESCAPES = ['token=%zz', 'token=abc%4', 'token=abc%', 'token=%4g', 'to%ken=a', 'token=a&%=b'];

describe.each(ENDPOINTS)('%s form bodies', (path, malformed) => {
  it.each(NOT_UTF8)('refuses %s: 400 invalid_request, not U+FFFD', async (_name, bytes) => {
    const res = await postBytes(path, bytes);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: expect.stringMatching(/^the form body is not valid UTF-8/),
        code: malformed,
      },
    });
  });

  it('refuses a malformed or truncated percent-escape: 400 invalid_request, not the escape as text', async () => {
    for (const raw of BAD_ESCAPES) {
      const res = await post(path, raw);
      expect({ raw, status: res.status, body: res.body }).toEqual({
        raw,
        status: 400,
        body: {
          error: 'invalid_request',
          error_description: expect.stringMatching(/^the form body has a malformed percent-escape/),
          code: malformed,
        },
      });
    }
  });

  it('reads UTF-8, raw or escaped, escaped names, and keeps a byte-order mark as a character', async () => {
    const escapedName = await post(path, `%74%6F%6B%65%6E=${encodeURIComponent(live)}`);
    expect([escapedName.status, escapedName.body.active]).toEqual([200, true]);
    const raw = await postBytes(path, Buffer.from(`token=${live}&note=caf\u00e9 \u{1f511}`));
    expect([raw.status, raw.body.active]).toEqual([200, true]);
    const escaped = await post(path, `token=${live}&note=caf%C3%A9+%F0%9F%94%91`);
    expect([escaped.status, escaped.body.active]).toEqual([200, true]);
    // U+FEFF before the name makes another name: the token is missing, not silently found.
    const bom = await post(path, `%EF%BB%BFtoken=${encodeURIComponent(live)}`);
    expect([bom.status, bom.body.error]).toEqual([400, 'invalid_request']);
  });

  it('reads a leading "?" as part of the first name, as the form encoding does (it is no URL query)', async () => {
    // URLSearchParams' constructor drops one leading "?"; a form body has none to drop: "?token" is not "token".
    const res = await post(path, `?token=${encodeURIComponent(live)}`);
    expect([res.status, res.body.error]).toEqual([400, 'invalid_request']);
    const plain = await post(path, `token=${encodeURIComponent(live)}`);
    expect([plain.status, plain.body.active]).toEqual([200, true]);
  });

  it('refuses a parameter sent twice: 400 invalid_request naming it, before the credential is checked', async () => {
    const twice = `token=${encodeURIComponent(live)}&token=other`;
    for (const authorization of [`Bearer ${SECRET}`, 'Bearer wrong-secret'.padEnd(47, 'x'), null]) {
      const res = await post(path, twice, { authorization });
      expect({ authorization, status: res.status, body: res.body }).toEqual({
        authorization,
        status: 400,
        body: {
          error: 'invalid_request',
          error_description: expect.stringMatching(/^the parameter .token. was sent more than once$/),
          code: malformed,
        },
      });
    }
    // Any parameter, not only the token.
    const hint = await post(path, `token=${live}&token_type_hint=access_token&token_type_hint=refresh_token`);
    expect({ status: hint.status, code: hint.body.code }).toEqual({ status: 400, code: malformed });
    expect(hint.body.error_description).toMatch(/token_type_hint/);
  });

  it('counts a parameter without a value as omitted (RFC 6749 §3.1), and lets resource repeat', async () => {
    const empty = await post(path, `token=&token=${encodeURIComponent(live)}`);
    expect({ status: empty.status, active: empty.body.active }).toEqual({ status: 200, active: true });
    const resources = await post(
      path,
      `token=${encodeURIComponent(live)}&resource=https%3A%2F%2Fa.internal&resource=https%3A%2F%2Fb.internal`,
    );
    expect({ status: resources.status, active: resources.body.active }).toEqual({
      status: 200,
      active: true,
    });
  });

  it('reads the form whatever the charset parameter says, and the media type in any case', async () => {
    for (const contentType of [
      'application/x-www-form-urlencoded; charset=UTF-8',
      'application/x-www-form-urlencoded;charset=utf-8',
      'Application/X-WWW-Form-Urlencoded',
    ]) {
      const res = await post(path, `token=${encodeURIComponent(live)}`, { contentType });
      expect({ contentType, status: res.status, active: res.body.active }).toEqual({
        contentType,
        status: 200,
        active: true,
      });
    }
  });

  it('answers a form over JOT_BODY_LIMIT (2 KiB here) 413 ERR_BODY_TOO_LARGE, before the credential', async () => {
    for (const authorization of [`Bearer ${SECRET}`, null]) {
      const res = await post(path, `token=${encodeURIComponent(live)}&pad=${'a'.repeat(3000)}`, {
        authorization,
      });
      expect({ authorization, status: res.status, body: res.body }).toEqual({
        authorization,
        status: 413,
        body: { error: 'invalid_request', error_description: expect.any(String), code: 'ERR_BODY_TOO_LARGE' },
      });
    }
    // Just under it is read.
    const under = await post(path, `token=${encodeURIComponent(live)}&pad=${'a'.repeat(1000)}`);
    expect(under.status).toBe(200);
  });
});

it('both endpoints give the same answer, code aside, to every malformed form above', async () => {
  const forms = [
    `token=${encodeURIComponent(live)}&token=x`,
    `token=x&token_type_hint=a&token_type_hint=b`,
    `token=${encodeURIComponent(live)}&pad=${'b'.repeat(4000)}`,
    ...BAD_ESCAPES,
    'token=%FF',
  ];
  for (const form of forms) {
    const [feed, oauth] = await Promise.all(ENDPOINTS.map(([path]) => post(path, form)));
    const shape = (res: TestResponse) => ({
      status: res.status,
      error: res.body.error,
      description: String(res.body.error_description).replace(/"/g, "'"),
    });
    expect(shape(feed!)).toEqual(shape(oauth!));
  }
});
