/**
 * An email's domain must be a domain name, strictly (review M1). The IDNA conversion goes through the URL host
 * parser, which stops at a URL delimiter: `victim@example.org#x` used to get the key of victim@example.org, so anyone
 * could register it (201, squatting the real owner's address, who then got 409 ERR_EMAIL_TAKEN) and sign in to an
 * account as `admin@example.com/anything`. Every path that takes an address now refuses such an address with 400
 * `ERR_EMAIL_INVALID` before any lookup, while Unicode (IDN) addresses keep the key they had.
 */
import { domainToASCII } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { emailKey, emailKeyOf, InvalidEmailError, storedEmailKey } from '../src/store/email.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery sq';

/** Addresses no account can have, each one a way to dress up `victim@example.org` (or any domain). */
const MALFORMED = [
  'victim@example.org#x', // fragment
  'victim@example.org/anything', // path
  'victim@example.org?x=1', // query
  'victim@example.org\\x', // backslash (a path separator to the URL parser)
  'victim@example.org:25', // port
  'victim@example.org%23x', // percent-escape
  'victim@exa%6dple.org', // percent-escaped letter
  'victim@example.org＃x', // fullwidth # (NFKC makes it #)
  'victim@example.org／x', // fullwidth solidus
  'victim@[::1]', // address literal
  'victim@[127.0.0.1]',
  'victim@127.0.0.1', // IPv4 address
  'victim@0x7f.1', // an IPv4 address to a URL parser (127.0.0.1)
  'victim@example.123', // numeric top-level label
  'victim@-.com', // hyphen-only label
  'victim@-example.org', // leading hyphen
  'victim@example-.org', // trailing hyphen
  'victim@a%2e', // percent-escaped dot
  'victim@example..org', // empty label
  'victim@.example.org', // leading dot
  'victim@example.org..', // empty label after the root dot
  'victim@exa_mple.org', // underscore
  'victim@exa!mple.org', // punctuation
  'victim@example.org,other.org', // list
  `victim@${'a'.repeat(64)}.org`, // label of 64
  'victim@xn--zz.example', // invalid punycode ('' to Node 20's and 22's domainToASCII, kept as it is by Node 24's)
  'victim@xn--abc-.example', // punycode of plain "abc": a second spelling of abc.example
];

describe('emailKey: the domain must be a domain name', () => {
  it.each(MALFORMED)('refuses %j (InvalidEmailError, never another address’s key)', (email) => {
    expect(() => emailKey(email)).toThrow(InvalidEmailError);
    expect(emailKeyOf(email)).toBeUndefined();
  });

  it('says what is wrong and how an address looks', () => {
    expect(() => emailKey('victim@example.org#x')).toThrow(
      'the email domain must not contain "#"; expected an address like name@example.com',
    );
    expect(() => emailKey('victim@example..org')).toThrow(/empty label/);
    expect(() => emailKey(`victim@${'a'.repeat(64)}.org`)).toThrow(/longer than 63/);
    expect(() => emailKey('victim@127.0.0.1')).toThrow(/not an IP address/);
  });

  it('refuses an xn-- label that is not the ASCII form of a Unicode label, the same on every Node release', () => {
    for (const domain of [
      'xn--zz.example',
      'a.xn--a',
      'xn--.example',
      'xn--a-ecp.ru',
      'xn--bcher-kva-.example',
    ]) {
      expect(() => emailKey(`a@${domain}`)).toThrow(
        /the email domain has a label "xn--[a-z0-9-]*" that is not the ASCII form of an international name/,
      );
    }
    expect(emailKey('a@XN--BCHER-KVA.example')).toBe('a@xn--bcher-kva.example');
    expect(emailKey('a@xn--ls8h.la')).toBe('a@xn--ls8h.la');
  });

  it('refuses an IDN domain whose ASCII form is longer than 253 characters', () => {
    const label = '日本語漢字文字列表示'; // 10 characters, 34 in punycode
    const domain = Array.from({ length: 8 }, () => label).join('.') + '.jp';
    expect(`a@${domain}`.length).toBeLessThanOrEqual(254);
    expect(domainToASCII(domain).length).toBeGreaterThan(253);
    expect(() => emailKey(`a@${domain}`)).toThrow(/longer than 253/);
  });

  it('keys Unicode, IDN and ordinary addresses as before', () => {
    expect(
      Object.fromEntries(
        [
          'Ada@Example.com',
          'ＡＤＡ@example.com.', // fullwidth, trailing root dot
          'a@Bücher.example',
          'a@xn--bcher-kva.example',
          'José@例え.テスト',
          'a@faß.de',
          'a@example。com', // ideographic full stop: a label separator in IDNA
          'a@localhost',
          'a@ab--cd.com',
          'a@0x7f.example',
          'a+tag#x!@sub.example-domain.org', // the local part is the mailbox's business
          `a@${'a'.repeat(63)}.org`,
        ].map((email) => [email, emailKey(email)]),
      ),
    ).toEqual({
      'Ada@Example.com': 'ada@example.com',
      'ＡＤＡ@example.com.': 'ada@example.com',
      'a@Bücher.example': 'a@xn--bcher-kva.example',
      'a@xn--bcher-kva.example': 'a@xn--bcher-kva.example',
      'José@例え.テスト': 'josé@xn--r8jz45g.xn--zckzah',
      'a@faß.de': 'a@xn--fa-hia.de',
      'a@example。com': 'a@example.com',
      'a@localhost': 'a@localhost',
      'a@ab--cd.com': 'a@ab--cd.com',
      'a@0x7f.example': 'a@0x7f.example',
      'a+tag#x!@sub.example-domain.org': 'a+tag#x!@sub.example-domain.org',
      [`a@${'a'.repeat(63)}.org`]: `a@${'a'.repeat(63)}.org`,
    });
  });

  it('storedEmailKey finds an address stored before the rules refused it by itself, never by a valid key', () => {
    expect(storedEmailKey('Ada@Bücher.example')).toBe('ada@xn--bcher-kva.example');
    expect(storedEmailKey('victim@example.org#x')).toBe('victim@example.org#x');
  });
});

describe('every HTTP path that takes an address refuses a malformed one (400 ERR_EMAIL_INVALID)', () => {
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof signUp>>;
  let other: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    server = await startServer();
    admin = await signUp(server, 'admin@example.com', PASSWORD); // the first account: the admin
    await signUp(server, 'victim@example.org', PASSWORD);
    other = await signUp(server, 'other@example.net', PASSWORD);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Each malformed address sent as `body(email)` to `path`: the status and code of every answer. */
  async function answers(path: string, body: (email: string) => object, token?: string) {
    const seen = [];
    for (const email of MALFORMED) {
      const res = await server.request('POST', path, { body: body(email), token });
      seen.push({ email, status: res.status, code: res.body.code });
    }
    return seen;
  }
  const refusedAll = MALFORMED.map((email) => ({ email, status: 400, code: 'ERR_EMAIL_INVALID' }));

  it('POST /api/register: 400, not 201 (a squat) or 409 (an enumeration)', async () => {
    expect(await answers('/api/register', (email) => ({ email, password: PASSWORD }))).toEqual(refusedAll);
  });

  it('POST /api/login: 400, not 200 with the password of the account the address resembles', async () => {
    expect(await answers('/api/login', (email) => ({ email, password: PASSWORD }))).toEqual(refusedAll);
    const res = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com/anything', password: PASSWORD },
    });
    expect(res.status).toBe(400);
    expect(res.body.access_token).toBeUndefined();
    expect(res.body.error_description).toContain('"/"');
  });

  it('POST /api/password/forgot and /api/email/verification: 400, not 202', async () => {
    expect(await answers('/api/password/forgot', (email) => ({ email }))).toEqual(refusedAll);
    expect(await answers('/api/email/verification', (email) => ({ email }))).toEqual(refusedAll);
  });

  it('POST /api/email/change: 400, not 409 or a link mailed', async () => {
    expect(await answers('/api/email/change', (new_email) => ({ new_email }), other.access_token)).toEqual(
      refusedAll,
    );
  });

  it('POST /api/admin/users and /api/admin/invitations: 400, not 201 or 409', async () => {
    expect(
      await answers('/api/admin/users', (email) => ({ email, password: PASSWORD }), admin.access_token),
    ).toEqual(refusedAll);
    expect(
      await answers('/api/admin/invitations', (email) => ({ email, roles: [] }), admin.access_token),
    ).toEqual(refusedAll);
  });

  it('created no account and no invitation for any of them', async () => {
    const users = await server.app.jot.store.listUsers({ limit: 50 });
    expect(users.map((u) => u.email).sort()).toEqual([
      'admin@example.com',
      'other@example.net',
      'victim@example.org',
    ]);
    expect(await server.app.jot.store.listOpenInvitations(50)).toEqual([]);
  });
});

describe('the squatting scenario of the review', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    await signUp(server, 'first@example.com', PASSWORD);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('victim@example.org#x is refused, and the real owner then registers victim@example.org', async () => {
    const squat = await server.request('POST', '/api/register', {
      body: { email: 'victim@example.org#x', password: PASSWORD },
    });
    expect({ status: squat.status, code: squat.body.code }).toEqual({
      status: 400,
      code: 'ERR_EMAIL_INVALID',
    });
    const owner = await server.request('POST', '/api/register', {
      body: { email: 'victim@example.org', password: 'the owner’s own password' },
    });
    expect(owner.status).toBe(201);
    expect(owner.body.email).toBe('victim@example.org');
  });

  it('an IDN address registers, signs in in any spelling of its domain, and is taken in any spelling', async () => {
    const reg = await server.request('POST', '/api/register', {
      body: { email: 'Ｉｄｎ@Bücher.Example.', password: PASSWORD },
    });
    expect(reg.status).toBe(201);
    expect(reg.body.email).toBe('Ｉｄｎ@Bücher.Example.');
    const login = await server.request('POST', '/api/login', {
      body: { email: 'idn@xn--bcher-kva.example', password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const again = await server.request('POST', '/api/register', {
      body: { email: 'IDN@bücher.example', password: PASSWORD },
    });
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: 'ERR_EMAIL_TAKEN' });
  });
});
