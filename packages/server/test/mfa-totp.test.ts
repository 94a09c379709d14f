/**
 * TOTP second factor and the two-step sign-in, with a controlled clock, on SQLite and on PostgreSQL: RFC 6238
 * vectors, window edges (±1 step), replay refused (also when raced), recovery codes once each, the MFA token's
 * lifetime, type, single use and attempt limit, the per-account limit, and the `amr`/`acr` claims.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeUnverified } from '@jot/jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openStore } from '@jot/server';

import { base32Decode, base32Encode, hotp, totpCode } from '../src/services/totp.js';
import { requirePostgres } from './support/postgres.js';
import { startServer, type TestServer, signUpVerified } from './support/jot-server.js';
import { newCredential, registrationResponse } from './support/soft-authenticator.js';

const PASSWORD = 'correct horse battery';

describe('RFC 6238 / RFC 4226 reference values', () => {
  // RFC 6238 Appendix B (SHA-1 seed "12345678901234567890", 8 digits, 30 s steps).
  const seed = Buffer.from('12345678901234567890');
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('T = %i s gives %s', (seconds, expected) => {
    expect(hotp(seed, Math.floor(seconds / 30), 8)).toBe(expected);
  });

  it('RFC 4226 Appendix D: HOTP 6-digit values for counters 0 and 9', () => {
    expect(hotp(seed, 0)).toBe('755224');
    expect(hotp(seed, 9)).toBe('520489');
  });

  it('base32 round-trips and refuses other characters', () => {
    expect(base32Encode(seed)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')).toEqual(seed);
    expect(() => base32Decode('GEZ1')).toThrow(TypeError);
  });
});

const pg = await requirePostgres('mfa-totp');

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
] as const)('TOTP two-step sign-in on %s', (_name, onPostgres) => {
  const skip = onPostgres && pg === undefined;
  let now = Date.UTC(2031, 5, 1, 12, 0, 10); // 10 s into a 30 s step
  let server: TestServer;
  let secret: Buffer;
  let recovery: string[];
  const email = 'mfa@example.com';
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-mfa-'));

  const login = () => server.request('POST', '/api/login', { body: { email, password: PASSWORD } });
  const second = (mfaToken: string, proof: Record<string, unknown>) =>
    server.request('POST', '/api/login/mfa', { body: { mfa_token: mfaToken, ...proof } });
  async function mfaToken(): Promise<string> {
    const res = await login();
    expect(res.status).toBe(403);
    return res.body.mfa_token as string;
  }
  const codeAt = (offsetSteps: number) => totpCode(secret, now + offsetSteps * 30_000);

  beforeAll(async () => {
    if (skip) return;
    const store = onPostgres
      ? await openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema }, now: () => now })
      : undefined;
    server = await startServer(
      { mfaAccountLimit: '12/15m', mfaTokenTtl: '5m', accessTokenTtl: '1h' },
      { clock: () => now, store, dataDir },
    );
  });
  afterAll(async () => {
    if (skip) return;
    if (onPostgres) await server.app.jot.store.close();
    await server.close();
    if (onPostgres) await pg!.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.skipIf(skip)(
    'enrols an authenticator app: secret as text and URI, confirmed by a first code',
    async () => {
      const tokens = await signUpVerified(server, email);
      const start = await server.request('POST', '/api/mfa/totp', { token: tokens.access_token });
      expect(start.status).toBe(200);
      expect(start.body.secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(start.body.otpauth_uri).toBe(
        `otpauth://totp/jot.test:${encodeURIComponent(email)}?secret=${start.body.secret}&issuer=jot.test&algorithm=SHA1&digits=6&period=30`,
      );
      secret = base32Decode(start.body.secret);
      // Before confirmation the password alone still signs in.
      expect((await login()).status).toBe(200);

      const wrong = await server.request('POST', '/api/mfa/totp/confirm', {
        token: tokens.access_token,
        body: { factor_id: start.body.factor_id, code: codeAt(3) },
      });
      expect(wrong.status).toBe(403);
      expect(wrong.body.code).toBe('ERR_MFA_CODE_INVALID');

      const ok = await server.request('POST', '/api/mfa/totp/confirm', {
        token: tokens.access_token,
        body: { factor_id: start.body.factor_id, code: codeAt(0) },
      });
      expect(ok.body).toMatchObject({ token_type: 'Bearer' });
      expect(ok.status).toBe(200);
      recovery = ok.body.recovery_codes;
      expect(recovery).toHaveLength(10);
      expect(new Set(recovery).size).toBe(10);
      const claims = decodeUnverified(ok.body.access_token).payload;
      expect(claims).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });

      // At rest: the secret sealed under the KEK, the recovery codes only as keyed hashes.
      const [factor] = await server.app.jot.store.mfa.listFactors(tokens.userId);
      expect(factor!.secretCiphertext).toMatch(/^v1\./);
      expect(factor!.secretCiphertext).not.toContain(start.body.secret);
      expect(factor!.secretCiphertext).not.toContain(secret.toString('base64url'));
      expect(await server.app.jot.store.mfa.countRecoveryCodes(tokens.userId)).toBe(10);
    },
  );

  it.skipIf(skip)('the password step answers mfa_required with a typed, short-lived MFA token', async () => {
    const res = await login();
    expect(res.status).toBe(403);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      error: 'mfa_required',
      code: 'ERR_MFA_REQUIRED',
      mfa_token_expires_in: 300,
      mfa_methods: ['totp', 'recovery_code'],
    });
    expect(res.body.access_token).toBeUndefined();
    const { header, payload } = decodeUnverified(res.body.mfa_token);
    expect(header.typ).toBe('mfa+jwt');
    expect(payload.aud).toBe('http://jot.test/api/login/mfa');

    // Never an access token: refused by the API, and an access token is refused as an MFA token.
    const asBearer = await server.request('GET', '/api/whoami', { token: res.body.mfa_token });
    expect(asBearer.status).toBe(401);
    expect(asBearer.body.code).toBe('ERR_JWT_CLAIM_INVALID');
    now += 30_000; // the confirmation used the current step's code
    const done = await second(res.body.mfa_token, { code: codeAt(0) });
    expect(done.status).toBe(200);
    expect(decodeUnverified(done.body.access_token).payload).toMatchObject({
      acr: 'aal2',
      amr: ['pwd', 'otp', 'mfa'],
    });
    const accessAsMfa = await second(done.body.access_token, { code: codeAt(1) });
    expect(accessAsMfa.status).toBe(401);
    expect(accessAsMfa.body.code).toBe('ERR_MFA_TOKEN_INVALID');
    // One-time: the used MFA token does not work again.
    now += 30_000;
    const again = await second(res.body.mfa_token, { code: codeAt(0) });
    expect(again.body.code).toBe('ERR_MFA_TOKEN_INVALID');
  });

  it.skipIf(skip)('accepts the previous and the next step, refuses two steps away', async () => {
    now += 60_000;
    for (const offset of [-2, 2]) {
      const res = await second(await mfaToken(), { code: codeAt(offset) });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_MFA_CODE_INVALID');
    }
    expect((await second(await mfaToken(), { code: codeAt(-1) })).status).toBe(200);
    expect((await second(await mfaToken(), { code: codeAt(1) })).status).toBe(200);
    // The edge of the current step: 1 ms before the next step starts, the code of two steps later is refused.
    now = Math.floor(now / 30_000) * 30_000 + 29_999 + 30_000 * 3;
    expect((await second(await mfaToken(), { code: codeAt(2) })).status).toBe(401);
    expect((await second(await mfaToken(), { code: codeAt(1) })).status).toBe(200);
  });

  it.skipIf(skip)('refuses a used code, also when the same code races on several MFA tokens', async () => {
    now += 5 * 30_000;
    const code = codeAt(0);
    expect((await second(await mfaToken(), { code })).status).toBe(200);
    const replay = await second(await mfaToken(), { code });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('ERR_MFA_CODE_INVALID');

    now += 30_000;
    const fresh = codeAt(0);
    const tokens = await Promise.all(Array.from({ length: 4 }, () => mfaToken()));
    const results = await Promise.all(tokens.map((t) => second(t, { code: fresh })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it.skipIf(skip)('each recovery code signs in once, also when raced', async () => {
    const first = await second(await mfaToken(), { recovery_code: recovery[0]!.toUpperCase() });
    expect(first.status).toBe(200);
    expect(decodeUnverified(first.body.access_token).payload.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect((await second(await mfaToken(), { recovery_code: recovery[0]! })).status).toBe(401);
    const tokens = await Promise.all(Array.from({ length: 3 }, () => mfaToken()));
    const raced = await Promise.all(tokens.map((t) => second(t, { recovery_code: recovery[1]! })));
    expect(raced.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    const events = await server.app.jot.store.listSecurityEvents({ limit: 50, type: 'recovery_code_used' });
    expect(events[0]!.detail).toEqual({ left: 8 });
  });

  it.skipIf(skip)(
    'one MFA token raced with two recovery codes signs in once, and the losing code stays usable',
    async () => {
      now += 16 * 60_000; // a fresh window of the account limit
      const token = await mfaToken();
      const codes = [recovery[4]!, recovery[5]!];
      const raced = await Promise.all(codes.map((code) => second(token, { recovery_code: code })));
      expect(raced.map((r) => r.status).sort()).toEqual([200, 401]);
      const loser = raced.findIndex((r) => r.status === 401);
      expect(raced[loser]!.body.code).toBe('ERR_MFA_TOKEN_INVALID');
      // The winner's code is spent; the loser's signed nothing in and still works, once.
      expect((await second(await mfaToken(), { recovery_code: codes[1 - loser]! })).status).toBe(401);
      expect((await second(await mfaToken(), { recovery_code: codes[loser]! })).status).toBe(200);
      expect((await second(await mfaToken(), { recovery_code: codes[loser]! })).status).toBe(401);
    },
  );

  it.skipIf(skip)(
    'a recovery code sent after the user signed out everywhere is refused and given back',
    async () => {
      const { store } = server.app.jot;
      const token = await mfaToken();
      const user = await store.getUserByEmail(email);
      await store.cutOffUser(user!.id, now); // what logout-everywhere does: a new credential generation
      now += 2_000;
      const refused = await second(token, { recovery_code: recovery[6]! });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('ERR_CREDENTIALS_CHANGED');
      expect((await second(await mfaToken(), { recovery_code: recovery[6]! })).status).toBe(200);
    },
  );

  it.skipIf(skip)(
    'two first factors added at once (an authenticator app, a passkey) show one set of recovery codes, the live one',
    async () => {
      const racer = await signUpVerified(server, 'first-factors@example.com');
      const token = racer.access_token;
      const start = await server.request('POST', '/api/mfa/totp', { token });
      const options = await server.request('POST', '/api/passkeys/register/options', { token });
      expect([start.status, options.status]).toEqual([200, 200]);
      const credential = registrationResponse(newCredential(racer.userId), options.body, 'http://jot.test');
      const confirmed = await Promise.all([
        server.request('POST', '/api/mfa/totp/confirm', {
          token,
          body: {
            factor_id: start.body.factor_id,
            code: totpCode(base32Decode(start.body.secret as string), now),
          },
        }),
        server.request('POST', '/api/passkeys/register', { token, body: { credential, name: 'Soft key' } }),
      ]);
      // The registration either overlapped the confirmation, or came after it and needs a step-up (the account now
      // has a factor); either way the user is shown one set of codes.
      expect(confirmed[0].status).toBe(200);
      if (confirmed[1].status !== 201) expect(confirmed[1].body.code).toBe('ERR_STEP_UP_REQUIRED');
      const shown = confirmed.flatMap((r) => (r.body.recovery_codes as string[] | undefined) ?? []);
      expect(shown).toHaveLength(10);
      expect(await server.app.jot.store.mfa.countRecoveryCodes(racer.userId)).toBe(10);
      // The codes shown are the ones that work.
      const password = await server.request('POST', '/api/login', {
        body: { email: 'first-factors@example.com', password: PASSWORD },
      });
      expect(password.status).toBe(403);
      expect((await second(password.body.mfa_token as string, { recovery_code: shown[0]! })).status).toBe(
        200,
      );
    },
  );

  it.skipIf(skip)('an MFA token allows 5 attempts, then refuses even the right code', async () => {
    now += 16 * 60_000; // a fresh window of the account limit
    const token = await mfaToken();
    for (let i = 0; i < 5; i++) {
      const res = await second(token, { code: i % 2 === 0 ? '000000' : '999999' });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_MFA_CODE_INVALID');
      expect(res.body.error_description).toContain(`${4 - i} attempts left`);
    }
    const sixth = await second(token, { code: codeAt(0) });
    expect(sixth.status).toBe(401);
    expect(sixth.body.code).toBe('ERR_MFA_TOKEN_INVALID');
  });

  it.skipIf(skip)(
    'the account limit holds across MFA tokens, Retry-After is when it ends; it reopens after',
    async () => {
      // 5 failures above, and a correct code is never counted: 7 more fill the limit of 12.
      for (let i = 0; i < 7; i++)
        expect((await second(await mfaToken(), { code: '123456' })).status).toBe(401);
      // Retry-After is the time until the window (opened by the first failure above) ends, not the whole window.
      now += 100_500;
      const locked = await second(await mfaToken(), { code: codeAt(0) });
      expect(locked.status).toBe(429);
      expect(locked.body.code).toBe('ERR_MFA_LOCKED');
      expect(Number(locked.headers.get('retry-after'))).toBe(800);
      now += 16 * 60_000;
      expect((await second(await mfaToken(), { code: codeAt(0) })).status).toBe(200);
    },
  );

  it.skipIf(skip)('an MFA token expires after its lifetime', async () => {
    now += 30_000;
    const token = await mfaToken();
    now += 5 * 60_000 + 1000;
    const res = await second(token, { code: codeAt(0) });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_MFA_TOKEN_INVALID');
    expect(res.body.error_description).toContain('expired');
  });

  it.skipIf(skip)('a second step needs exactly one proof', async () => {
    const token = await mfaToken();
    expect((await second(token, {})).body.code).toBe('ERR_VALIDATION');
    expect((await second(token, { code: '123456', recovery_code: recovery[2]! })).status).toBe(400);
    expect((await second(token, { code: 'abcdef' })).status).toBe(400);
  });
});
