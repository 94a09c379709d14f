/**
 * DPoP binds every sign-in, not only the one-step password sign-in: the second step of the two-step sign-in
 * (`POST /api/login/mfa`) binds the session to the key the password step proved, and refuses a proof from another
 * key — or none — before the second factor is checked; `JOT_DPOP=required` holds at the second step and at the
 * passwordless passkey sign-in (`POST /api/passkeys/login`), which binds the session to its proof's key too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { base32Decode, totpCode } from '../src/services/totp.js';
import { dpopClient, type DPoPClient } from './support/dpop.js';
import { startServer, verifyAddressOf, type TestResponse, type TestServer } from './support/jot-server.js';
import { assertionResponse, newCredential, registrationResponse } from './support/soft-authenticator.js';

const PASSWORD = 'correct horse battery';
const ORIGIN = 'http://jot.test';

/** A server on a controlled clock: each sign-in moves it one TOTP step on, so every code is a fresh one. */
async function clockedServer(dpop: 'optional' | 'required') {
  let now = Date.now();
  const server = await startServer({ dpop, accessTokenTtl: '1h', mfaTokenTtl: '10m' }, { clock: () => now });
  return {
    server,
    /** Proof options for the server's present time. */
    iat: () => ({ iat: Math.floor(now / 1000) }),
    nextStep: () => {
      now += 30_000;
    },
    code: (secret: Buffer) => totpCode(secret, now),
  };
}

type Clocked = Awaited<ReturnType<typeof clockedServer>>;

/** Registers `email` and signs it in with `client`'s proof (so this works with `JOT_DPOP=required` too). */
async function registerAndSignIn(
  server: TestServer,
  client: DPoPClient,
  email: string,
  iat: { iat: number },
): Promise<string> {
  const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
  expect(reg.status, reg.text).toBe(201);
  await verifyAddressOf(server, reg.body.id as string);
  const login = await client.request('POST', '/api/login', {
    body: { email, password: PASSWORD },
    proof: iat,
  });
  expect(login.status, login.text).toBe(200);
  return login.body.access_token as string;
}

/** Sets up an authenticator app for the signed-in `client`; returns its secret. */
async function enrolTotp(clocked: Clocked, client: DPoPClient, token: string): Promise<Buffer> {
  const start = await client.request('POST', '/api/mfa/totp', { token, proof: clocked.iat() });
  expect(start.status, start.text).toBe(200);
  const secret = base32Decode(start.body.secret as string);
  const ok = await client.request('POST', '/api/mfa/totp/confirm', {
    token,
    body: { factor_id: start.body.factor_id, code: clocked.code(secret) },
    proof: clocked.iat(),
  });
  expect(ok.status, ok.text).toBe(200);
  return secret;
}

/** The password step with `client`'s proof (or none with `omit`); returns the MFA token. */
async function passwordStep(
  clocked: Clocked,
  client: DPoPClient,
  email: string,
  omit = false,
): Promise<string> {
  clocked.nextStep();
  const res = await client.request('POST', '/api/login', {
    body: { email, password: PASSWORD },
    proof: { ...clocked.iat(), omit },
  });
  expect(res.status, res.text).toBe(403);
  expect(res.body.error).toBe('mfa_required');
  return res.body.mfa_token as string;
}

/** The second step with a TOTP code and `client`'s proof (or none with `omit`). */
function secondStep(
  clocked: Clocked,
  client: DPoPClient,
  mfaToken: string,
  secret: Buffer,
  omit = false,
): Promise<TestResponse> {
  return client.request('POST', '/api/login/mfa', {
    body: { mfa_token: mfaToken, code: clocked.code(secret) },
    proof: { ...clocked.iat(), omit },
  });
}

/** The answer is a session bound to `client`'s key, usable with its proofs. */
async function expectBoundTo(clocked: Clocked, res: TestResponse, client: DPoPClient): Promise<void> {
  expect(res.status, res.text).toBe(200);
  expect(res.body.token_type).toBe('DPoP');
  expect(decodeUnverified(res.body.access_token as string).payload.cnf).toEqual({
    jkt: client.key.thumbprint(),
  });
  const who = await client.request('GET', '/api/whoami', {
    token: res.body.access_token,
    proof: clocked.iat(),
  });
  expect(who.status, who.text).toBe(200);
  // A bearer copy of the token is worthless.
  const bearer = await clocked.server.request('GET', '/api/whoami', { token: res.body.access_token });
  expect(bearer.status).toBe(401);
}

/** A server, a DPoP client signed in to it, and the secret of the authenticator app that client set up. */
interface TotpAccount {
  clocked: Clocked;
  client: DPoPClient;
  secret: Buffer;
}

/**
 * Before the block's tests: a server with `policy`, and `email` registered and signed in by a DPoP client that set
 * up an authenticator app. The function it returns gives them to a test.
 */
function totpAccount(policy: 'optional' | 'required', email: string): () => TotpAccount {
  let clocked: Clocked | undefined;
  let account: TotpAccount | undefined;
  beforeAll(async () => {
    clocked = await clockedServer(policy);
    const client = dpopClient(clocked.server);
    const secret = await enrolTotp(
      clocked,
      client,
      await registerAndSignIn(clocked.server, client, email, clocked.iat()),
    );
    account = { clocked, client, secret };
  });
  afterAll(() => clocked?.server.close());
  return () => {
    if (account === undefined) throw new Error(`the account ${email} was not set up`);
    return account;
  };
}

/**
 * After a password step with a proof, a second step without one is refused (ERR_DPOP_REQUIRED) — under either
 * policy — and the same step with the proof then binds the session.
 */
async function expectProoflessSecondStepRefused(
  { clocked, client, secret }: TotpAccount,
  email: string,
): Promise<void> {
  const mfaToken = await passwordStep(clocked, client, email);
  const refused = await secondStep(clocked, client, mfaToken, secret, true);
  expect(refused.status).toBe(400);
  expect(refused.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_REQUIRED' });
  await expectBoundTo(clocked, await secondStep(clocked, client, mfaToken, secret), client);
}

describe('the TOTP second step (JOT_DPOP=optional)', () => {
  const email = 'mfa-dpop@example.com';
  const account = totpAccount('optional', email);

  it('binds the session to the key the password step proved: token_type DPoP, cnf.jkt its thumbprint', async () => {
    const { clocked, client, secret } = account();
    const mfaToken = await passwordStep(clocked, client, email);
    await expectBoundTo(clocked, await secondStep(clocked, client, mfaToken, secret), client);
  });

  it('refuses a proof from another key (ERR_DPOP_KEY_MISMATCH) before the code is checked', async () => {
    const { clocked, client, secret } = account();
    const mfaToken = await passwordStep(clocked, client, email);
    const other = dpopClient(clocked.server);
    const refused = await secondStep(clocked, other, mfaToken, secret);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_KEY_MISMATCH' });
    // The code was not spent on the refused request: the key that started the sign-in still finishes it with it.
    await expectBoundTo(clocked, await secondStep(clocked, client, mfaToken, secret), client);
  });

  it('refuses the second step without a proof when the password step had one (ERR_DPOP_REQUIRED)', () =>
    expectProoflessSecondStepRefused(account(), email));

  it('refuses a proof at the second step of a sign-in started without one (ERR_DPOP_KEY_MISMATCH)', async () => {
    const { clocked, client, secret } = account();
    const mfaToken = await passwordStep(clocked, client, email, true);
    const refused = await secondStep(clocked, client, mfaToken, secret);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_KEY_MISMATCH' });
    // Without DPoP on both steps the sign-in is a bearer one, as before.
    const plain = await secondStep(clocked, client, mfaToken, secret, true);
    expect(plain.status, plain.text).toBe(200);
    expect(plain.body.token_type).toBe('Bearer');
  });
});

describe('the TOTP second step with JOT_DPOP=required', () => {
  const email = 'mfa-dpop-required@example.com';
  const account = totpAccount('required', email);

  it('refuses the second step without a proof (ERR_DPOP_REQUIRED), and binds it with one', () =>
    expectProoflessSecondStepRefused(account(), email));
});

describe.each(['optional', 'required'] as const)('passkey sign-in (JOT_DPOP=%s)', (policy) => {
  let clocked: Clocked;
  let client: DPoPClient;
  const credential = newCredential('pending');

  /** The passwordless sign-in with the passkey, and `client`'s proof unless `omit`. */
  async function passkeySignIn(omit = false): Promise<TestResponse> {
    const options = await clocked.server.request('POST', '/api/passkeys/login/options');
    expect(options.status).toBe(200);
    return client.request('POST', '/api/passkeys/login', {
      body: { credential: assertionResponse(credential, options.body, ORIGIN) },
      proof: { ...clocked.iat(), omit },
    });
  }

  beforeAll(async () => {
    clocked = await clockedServer(policy);
    client = dpopClient(clocked.server);
    const token = await registerAndSignIn(
      clocked.server,
      client,
      `passkey-${policy}@example.com`,
      clocked.iat(),
    );
    const who = await client.request('GET', '/api/whoami', { token, proof: clocked.iat() });
    credential.userHandle = who.body.claims.sub as string;
    const options = await client.request('POST', '/api/passkeys/register/options', {
      token,
      proof: clocked.iat(),
    });
    expect(options.status, options.text).toBe(200);
    const registered = await client.request('POST', '/api/passkeys/register', {
      token,
      body: { credential: registrationResponse(credential, options.body, ORIGIN), name: 'Soft key' },
      proof: clocked.iat(),
    });
    expect(registered.status, registered.text).toBe(201);
  });
  afterAll(() => clocked?.server.close());

  it('binds the session to the proof key: token_type DPoP, cnf.jkt its thumbprint', async () => {
    await expectBoundTo(clocked, await passkeySignIn(), client);
  });

  it(
    policy === 'required'
      ? 'refuses a sign-in without a proof (ERR_DPOP_REQUIRED)'
      : 'signs in without a proof as a bearer session, as before',
    async () => {
      const res = await passkeySignIn(true);
      if (policy === 'required') {
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_REQUIRED' });
      } else {
        expect(res.status, res.text).toBe(200);
        expect(res.body.token_type).toBe('Bearer');
      }
    },
  );

  it('refuses a proof with cookie delivery, as the password sign-in does (ERR_VALIDATION)', async () => {
    const options = await clocked.server.request('POST', '/api/passkeys/login/options');
    const res = await client.request('POST', '/api/passkeys/login', {
      body: { credential: assertionResponse(credential, options.body, ORIGIN), delivery: 'cookie' },
      proof: clocked.iat(),
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_VALIDATION');
  });
});
