/**
 * Second factors are single-use across a deployment: two instances over one PostgreSQL database and one Redis, on
 * one controlled clock, with the same artefact fired at both at once (8 attempts, split between them) —
 * ([mfa.md](../../../docs/mfa.md)):
 *
 * - one MFA token completed several times at once (with different recovery codes, or the same TOTP code) starts one
 *   session; the recovery codes of the refused attempts are given back; guessed at on both instances at once it
 *   gets 5 attempts in all;
 * - one TOTP code is accepted once per time step: on several MFA tokens at once, or as several step-ups at once;
 *   an authenticator app confirmed several times at once is enrolled once, with one set of recovery codes;
 * - one WebAuthn challenge verifies once: a passwordless sign-in assertion, a passwordless challenge answered by
 *   several different assertions (forged ones among them, which leave it to a genuine one), a second-step assertion
 *   raced on several MFA tokens, a step-up assertion, and a registration challenge answered by several new
 *   credentials (one passkey, one set of codes).
 *
 * Losers get the documented 4xx (the status and code named in each test: 401 at a sign-in, 403 for a signed-in
 * user's proof), never a 500.
 */
import { decodeUnverified } from '@jot/jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { base32Decode, totpCode } from '../src/services/totp.js';
import {
  clusterBackendsAvailable,
  eventCount,
  expectOneWinner,
  fireAtAll,
  outcome,
  startCluster,
  type Cluster,
} from './support/cluster.js';
import { type TestServer, signUpVerified } from './support/jot-server.js';
import {
  assertionResponse,
  newCredential,
  registrationResponse,
  type SoftCredential,
} from './support/soft-authenticator.js';

const ATTEMPTS = 8;
const PASSWORD = 'correct horse battery';
const ORIGIN = 'http://jot.test';

const available = await clusterBackendsAvailable('single-use second factors across instances');

describe.runIf(available)('second factors raced over two instances (PostgreSQL + Redis)', () => {
  // 5 s into a 30 s TOTP step; each test moves on by whole steps, so its codes are fresh.
  let now = Date.UTC(2033, 0, 10, 12, 0, 5);
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    cluster = await startCluster(
      { accessTokenTtl: '1h', mfaTokenTtl: '10m', stepUpMaxAge: '1h' },
      { clock: () => now },
    );
    [a, b] = cluster.instances as [TestServer, TestServer];
    await signUpVerified(a, 'admin@example.com');
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const nextStep = () => {
    now += 30_000;
  };
  const sessionsOf = async (userId: string) => (await cluster.store.listSessionsForUser(userId)).length;

  /** The password step on `server`; the MFA token. */
  async function mfaToken(server: TestServer, email: string): Promise<string> {
    const res = await server.request('POST', '/api/login', { body: { email, password: PASSWORD } });
    expect(res.status, res.text).toBe(403);
    expect(res.body.code).toBe('ERR_MFA_REQUIRED');
    return res.body.mfa_token as string;
  }

  /** MFA tokens for `email`, one per attempt, each from the password step on the instance the attempt goes to. */
  async function mfaTokens(email: string, count = ATTEMPTS): Promise<string[]> {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) tokens.push(await mfaToken(cluster.instances[i % 2]!, email));
    return tokens;
  }

  describe('an authenticator app (TOTP)', () => {
    const email = 'totp-racer@example.com';
    let userId: string;
    let secret: Buffer;
    let recovery: string[];
    const code = () => totpCode(secret, now);

    beforeAll(async () => {
      const user = await signUpVerified(b, email);
      userId = user.userId;
      const start = await a.request('POST', '/api/mfa/totp', { token: user.access_token });
      expect(start.status, start.text).toBe(200);
      secret = base32Decode(start.body.secret as string);
      const confirmed = await b.request('POST', '/api/mfa/totp/confirm', {
        token: user.access_token,
        body: { factor_id: start.body.factor_id, code: code() },
      });
      expect(confirmed.status, confirmed.text).toBe(200);
      recovery = confirmed.body.recovery_codes as string[];
      expect(recovery).toHaveLength(10);
    });

    it('one MFA token completed with different recovery codes at once signs in once; the other codes are given back', async () => {
      nextStep();
      const token = await mfaToken(a, email);
      const sessions = await sessionsOf(userId);
      const codes = recovery.slice(0, ATTEMPTS);
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
        server.request('POST', '/api/login/mfa', { body: { mfa_token: token, recovery_code: codes[i] } }),
      );
      const won = expectOneWinner(results, 200, { status: 401, codes: ['ERR_MFA_TOKEN_INVALID'] });
      expect(decodeUnverified(results[won]!.body.access_token as string).payload.acr).toBe('aal2');
      expect(await sessionsOf(userId)).toBe(sessions + 1);
      // Only the winner's code is spent: the losers' signed nothing in.
      expect(await cluster.store.mfa.countRecoveryCodes(userId)).toBe(9);
      expect(await eventCount(cluster.store, 'recovery_code_used', userId)).toBe(1);
      // A loser's code, given back, still signs in (once).
      const spare = codes[won === 0 ? 1 : 0]!;
      const again = await b.request('POST', '/api/login/mfa', {
        body: { mfa_token: await mfaToken(b, email), recovery_code: spare },
      });
      expect(again.status, again.text).toBe(200);
      expect(await cluster.store.mfa.countRecoveryCodes(userId)).toBe(8);
    });

    it('one MFA token guessed at on both instances at once gets 5 attempts in all, then is dead', async () => {
      nextStep();
      const token = await mfaToken(a, email);
      const wrong = String((Number(code()) + 1) % 1_000_000).padStart(6, '0');
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        server.request('POST', '/api/login/mfa', { body: { mfa_token: token, code: wrong } }),
      );
      const codes = results.map((r) => `${r.status} ${r.body.code}`).sort();
      expect(codes).toEqual([
        ...Array.from({ length: 5 }, () => '401 ERR_MFA_CODE_INVALID'),
        ...Array.from({ length: ATTEMPTS - 5 }, () => '401 ERR_MFA_TOKEN_INVALID'),
      ]);
      // The right code no longer helps this token.
      const late = await b.request('POST', '/api/login/mfa', { body: { mfa_token: token, code: code() } });
      expect(outcome(late)).toEqual({ status: 401, code: 'ERR_MFA_TOKEN_INVALID' });
    });

    it('one MFA token completed with the same code at once signs in once', async () => {
      nextStep();
      const token = await mfaToken(b, email);
      const sessions = await sessionsOf(userId);
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        server.request('POST', '/api/login/mfa', { body: { mfa_token: token, code: code() } }),
      );
      expectOneWinner(results, 200, {
        status: 401,
        codes: ['ERR_MFA_CODE_INVALID', 'ERR_MFA_TOKEN_INVALID'],
      });
      expect(await sessionsOf(userId)).toBe(sessions + 1);
    });

    it('one MFA token completed with the codes of three different (valid) steps at once signs in once', async () => {
      nextStep();
      nextStep(); // the previous step's code is unused too
      const token = await mfaToken(a, email);
      const sessions = await sessionsOf(userId);
      // The previous, current and next step's codes are all valid now, each once; 5 attempts per MFA token.
      const codes = [-1, 0, 1].map((step) => totpCode(secret, now + step * 30_000));
      const results = await fireAtAll(cluster.instances, codes.length, (server, i) =>
        server.request('POST', '/api/login/mfa', { body: { mfa_token: token, code: codes[i] } }),
      );
      now += 30_000; // on to the step of the last code used (the next test moves past it)
      expectOneWinner(results, 200, { status: 401, codes: ['ERR_MFA_TOKEN_INVALID'] });
      expect(await sessionsOf(userId)).toBe(sessions + 1);
    });

    it('one code on several MFA tokens at once (both instances) is accepted once', async () => {
      nextStep();
      const tokens = await mfaTokens(email);
      const sessions = await sessionsOf(userId);
      const fresh = code();
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
        server.request('POST', '/api/login/mfa', { body: { mfa_token: tokens[i], code: fresh } }),
      );
      expectOneWinner(results, 200, { status: 401, codes: ['ERR_MFA_CODE_INVALID'] });
      expect(await sessionsOf(userId)).toBe(sessions + 1);
      // The same code later, on the other instance, is still spent.
      const late = await a.request('POST', '/api/login/mfa', {
        body: { mfa_token: await mfaToken(a, email), code: fresh },
      });
      expect(late.body.code).toBe('ERR_MFA_CODE_INVALID');
    });

    it('one code as several step-ups at once (both instances) is accepted once; a code that signed in steps nothing up', async () => {
      nextStep();
      const signedIn = await b.request('POST', '/api/login/mfa', {
        body: { mfa_token: await mfaToken(b, email), code: code() },
      });
      expect(signedIn.status, signedIn.text).toBe(200);
      const access = signedIn.body.access_token as string;
      const used = await a.request('POST', '/api/mfa/step-up', { token: access, body: { code: code() } });
      expect(used.status).toBe(403);
      expect(used.body.code).toBe('ERR_MFA_CODE_INVALID');

      nextStep();
      const stepUps = await eventCount(cluster.store, 'mfa_step_up', userId);
      const fresh = code();
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        server.request('POST', '/api/mfa/step-up', { token: access, body: { code: fresh } }),
      );
      expectOneWinner(results, 200, { status: 403, codes: ['ERR_MFA_CODE_INVALID'] });
      expect(await eventCount(cluster.store, 'mfa_step_up', userId)).toBe(stepUps + 1);
    });
  });

  it('an authenticator app confirmed several times at once (codes of three valid steps) is enrolled once, with one set of codes', async () => {
    nextStep();
    const user = await signUpVerified(a, 'totp-confirm-racer@example.com');
    const start = await b.request('POST', '/api/mfa/totp', { token: user.access_token });
    expect(start.status, start.text).toBe(200);
    const secret = base32Decode(start.body.secret as string);
    const codes = [-1, 0, 1].map((step) => totpCode(secret, now + step * 30_000));
    const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
      server.request('POST', '/api/mfa/totp/confirm', {
        token: user.access_token,
        body: { factor_id: start.body.factor_id, code: codes[i % codes.length] },
      }),
    );
    now += 30_000; // on to the step of the last code used (the next test moves past it)
    const outcomes = results.map(outcome);
    expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);
    const won = outcomes.findIndex((o) => o.status === 200);
    expect(
      outcomes.filter((o) => o.status === 200),
      JSON.stringify(outcomes),
    ).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status !== 200)) {
      expect([
        { status: 403, code: 'ERR_MFA_CODE_INVALID' },
        { status: 404, code: 'ERR_NOT_FOUND' },
      ]).toContainEqual(o);
    }
    expect(results[won]!.body.recovery_codes).toHaveLength(10);
    const factors = await cluster.store.mfa.listFactors(user.userId);
    expect(factors.map((f) => ({ kind: f.kind, confirmed: f.confirmedAt !== null }))).toEqual([
      { kind: 'totp', confirmed: true },
    ]);
    expect(await cluster.store.mfa.countRecoveryCodes(user.userId)).toBe(10);
    expect(await eventCount(cluster.store, 'mfa_enrolled', user.userId)).toBe(1);
  });

  describe('passkeys (WebAuthn challenges)', () => {
    /**
     * How a losing registration is refused: the challenge is spent (`ERR_PASSKEY_INVALID`) — or, when it is checked
     * after the winner committed, the account now has a second factor, so the single-factor token no longer passes
     * step-up (`ERR_STEP_UP_REQUIRED`). Which one depends only on timing; neither registers. The first refuses the
     * signed-in user's proof (403); the second challenges the token for a step-up (401).
     */
    const FIRST_FACTOR_TAKEN = {
      outcomes: [
        { status: 403, code: 'ERR_PASSKEY_INVALID' },
        { status: 401, code: 'ERR_STEP_UP_REQUIRED' },
      ],
    } as const;

    const email = 'passkey-racer@example.com';
    let userId: string;
    let credential: SoftCredential;

    it('a registration challenge answered by several new passkeys at once registers one, with one set of codes', async () => {
      nextStep();
      const user = await signUpVerified(a, email);
      userId = user.userId;
      const options = await b.request('POST', '/api/passkeys/register/options', { token: user.access_token });
      expect(options.status, options.text).toBe(200);
      const credentials = Array.from({ length: ATTEMPTS }, () => newCredential(userId));
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
        server.request('POST', '/api/passkeys/register', {
          token: user.access_token,
          body: { credential: registrationResponse(credentials[i]!, options.body, ORIGIN), name: `key ${i}` },
        }),
      );
      const won = expectOneWinner(results, 201, FIRST_FACTOR_TAKEN);
      credential = credentials[won]!;
      expect(results[won]!.body.recovery_codes).toHaveLength(10);
      const factors = await cluster.store.mfa.listFactors(userId);
      expect(factors.map((f) => ({ kind: f.kind, name: f.name }))).toEqual([
        { kind: 'webauthn', name: `key ${won}` },
      ]);
      expect(await cluster.store.mfa.countRecoveryCodes(userId)).toBe(10);
    });

    it('one registration answer sent several times at once registers one passkey', async () => {
      nextStep();
      const user = await signUpVerified(b, 'passkey-same-answer@example.com');
      const options = await a.request('POST', '/api/passkeys/register/options', { token: user.access_token });
      const answer = registrationResponse(newCredential(user.userId), options.body, ORIGIN);
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        server.request('POST', '/api/passkeys/register', {
          token: user.access_token,
          body: { credential: answer },
        }),
      );
      expectOneWinner(results, 201, FIRST_FACTOR_TAKEN);
      expect(await cluster.store.mfa.listFactors(user.userId)).toHaveLength(1);
      expect(await cluster.store.mfa.countRecoveryCodes(user.userId)).toBe(10);
    });

    it('a passwordless sign-in assertion sent several times at once signs in once', async () => {
      nextStep();
      const options = await a.request('POST', '/api/passkeys/login/options');
      expect(options.status).toBe(200);
      const assertion = assertionResponse(credential, options.body, ORIGIN);
      const sessions = await sessionsOf(userId);
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        server.request('POST', '/api/passkeys/login', { body: { credential: assertion } }),
      );
      const won = expectOneWinner(results, 200, { status: 401, codes: ['ERR_PASSKEY_INVALID'] });
      expect(decodeUnverified(results[won]!.body.access_token as string).payload.amr).toEqual([
        'hwk',
        'user',
        'mfa',
      ]);
      expect(await sessionsOf(userId)).toBe(sessions + 1);
    });

    it('a passwordless sign-in challenge answered at once by different valid assertions and by forged ones signs in once', async () => {
      nextStep();
      const options = await b.request('POST', '/api/passkeys/login/options');
      expect(options.status).toBe(200);
      // Even attempts genuine (each its own signature and counter), odd ones with a spoilt signature: a failed one
      // spends one of the challenge's 5 attempts but not the challenge, so one of the genuine ones still wins.
      const assertions = Array.from({ length: ATTEMPTS }, (_, i) =>
        assertionResponse(credential, options.body, ORIGIN, i % 2 === 1),
      );
      const sessions = await sessionsOf(userId);
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
        server.request('POST', '/api/passkeys/login', { body: { credential: assertions[i] } }),
      );
      const won = expectOneWinner(results, 200, { status: 401, codes: ['ERR_PASSKEY_INVALID'] });
      expect(won % 2, 'a genuine assertion won').toBe(0);
      expect(await sessionsOf(userId)).toBe(sessions + 1);
    });

    it('a step-up assertion sent several times at once (both instances) steps up once', async () => {
      nextStep();
      const token = await mfaToken(b, email);
      const signInOptions = await a.request('POST', '/api/login/mfa/passkey-options', {
        body: { mfa_token: token },
      });
      const signedIn = await b.request('POST', '/api/login/mfa', {
        body: { mfa_token: token, webauthn: assertionResponse(credential, signInOptions.body, ORIGIN) },
      });
      expect(signedIn.status, signedIn.text).toBe(200);
      const access = signedIn.body.access_token as string;
      const options = await a.request('POST', '/api/mfa/step-up/passkey-options', { token: access });
      expect(options.status, options.text).toBe(200);
      const assertion = assertionResponse(credential, options.body, ORIGIN);
      const stepUps = await eventCount(cluster.store, 'mfa_step_up', userId);
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        server.request('POST', '/api/mfa/step-up', { token: access, body: { webauthn: assertion } }),
      );
      expectOneWinner(results, 200, { status: 403, codes: ['ERR_PASSKEY_INVALID'] });
      expect(await eventCount(cluster.store, 'mfa_step_up', userId)).toBe(stepUps + 1);
    });

    it('a second-step assertion raced on several MFA tokens (both instances) signs in once', async () => {
      nextStep();
      const tokens = await mfaTokens(email);
      const options = await b.request('POST', '/api/login/mfa/passkey-options', {
        body: { mfa_token: tokens[0] },
      });
      expect(options.status, options.text).toBe(200);
      const assertion = assertionResponse(credential, options.body, ORIGIN);
      const sessions = await sessionsOf(userId);
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server, i) =>
        server.request('POST', '/api/login/mfa', { body: { mfa_token: tokens[i], webauthn: assertion } }),
      );
      const won = expectOneWinner(results, 200, { status: 401, codes: ['ERR_PASSKEY_INVALID'] });
      expect(decodeUnverified(results[won]!.body.access_token as string).payload.amr).toEqual([
        'pwd',
        'hwk',
        'mfa',
      ]);
      expect(await sessionsOf(userId)).toBe(sessions + 1);
    });
  });
});
