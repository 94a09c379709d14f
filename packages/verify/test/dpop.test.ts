/**
 * DPoP (RFC 9449 §7) in every adapter: a bound token needs `Authorization: DPoP` and a fresh proof for this method
 * and URL with `ath`; each failure is answered with the RFC's error and `WWW-Authenticate: DPoP` challenge; nonces;
 * the external URL behind a proxy; replay refused across verifier instances through Redis; a proof made by `jose`
 * is accepted.
 */
import { Redis } from 'ioredis';
import { exportJWK, generateKeyPair as joseKeyPair, SignJWT, calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { accessTokenHash, createDPoPProof, generateKeyPair, type DPoPProofInput } from '@jot/jose';

import { requireRedis, TEST_REDIS_URL } from '../../server/test/support/redis.js';
import { createVerifier, type DPoPOptions, type Verifier } from '../src/index.js';
import { ADAPTERS, type Mounted } from './support/adapters.js';
import { AUDIENCE, startFakeIssuer, type FakeIssuer } from '../../../test-support/fake-issuer.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { recordingLogger } from './support/wait.js';

const key = generateKeyPair('ES256');
const now = (): number => Math.floor(Date.now() / 1000);

interface Answer {
  status: number;
  body: { code?: string; error?: string; via?: string };
  challenge: string;
  nonce: string | null;
}

function verifierFor(issuer: FakeIssuer, dpop?: DPoPOptions): Verifier {
  return createVerifier({
    issuer: issuer.url,
    audience: AUDIENCE,
    revocation: 'none',
    logger: recordingLogger(),
    ...(dpop === undefined ? {} : { dpop }),
  });
}

async function send(
  url: string,
  init: { method?: string; headers: Record<string, string> },
): Promise<Answer> {
  const res = await fetch(url, { method: init.method ?? 'GET', headers: init.headers });
  return {
    status: res.status,
    body: (await res.json()) as Answer['body'],
    challenge: res.headers.get('www-authenticate') ?? '',
    nonce: res.headers.get('dpop-nonce'),
  };
}

describe.each(ADAPTERS)('%s adapter with DPoP-bound tokens', (_name, mount) => {
  let issuer: FakeIssuer;
  let app: Mounted;
  let nonceApp: Mounted;
  let verifiers: Verifier[] = [];
  let token: string;

  beforeAll(async () => {
    issuer = await startFakeIssuer();
    verifiers = [verifierFor(issuer), verifierFor(issuer, { nonce: { secret: 'n'.repeat(32) } })];
    await Promise.all(verifiers.map((v) => v.ready()));
    app = await mount(verifiers[0]!);
    nonceApp = await mount(verifiers[1]!);
    token = issuer.tokens.sign({ cnf: { jkt: key.thumbprint() } });
  });
  afterAll(async () => {
    await app?.close();
    await nonceApp?.close();
    await Promise.all(verifiers.map((v) => v.close()));
    await issuer?.close();
  });

  const call = (
    path: string,
    proof: Partial<DPoPProofInput> | null,
    opts: { method?: string; scheme?: string; token?: string; base?: Mounted } = {},
  ) => {
    const base = opts.base ?? app;
    const method = opts.method ?? 'GET';
    const sent = opts.token ?? token;
    const headers: Record<string, string> = { authorization: `${opts.scheme ?? 'DPoP'} ${sent}` };
    if (proof !== null) {
      headers.dpop = createDPoPProof(key, { htm: method, htu: base.url + path, accessToken: sent, ...proof });
    }
    return send(base.url + path, { method, headers });
  };

  it('accepts a bound token with a fresh proof (and a POST with its own)', async () => {
    const me = await call('/me', {});
    expect(me.status).toBe(200);
    expect(me.body.via).toBe('dpop');
    expect((await call('/orders', {}, { method: 'POST' })).status).toBe(200);
    expect((await call('/me?page=2', {})).status).toBe(200);
  });

  it('refuses the bound token as Bearer with a DPoP invalid_token challenge', async () => {
    const res = await call('/me', null, { scheme: 'Bearer' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_token', code: 'ERR_DPOP_REQUIRED' });
    expect(res.challenge).toMatch(/^DPoP error="invalid_token", error_description="[^"]+", algs="ES256 /);
  });

  it.each([
    ['no proof', null, 'ERR_DPOP_REQUIRED'],
    ['a proof for another URL', { htu: 'http://127.0.0.1:1/me' }, 'ERR_DPOP_PROOF_INVALID'],
    ['a proof for another method', { htm: 'POST' }, 'ERR_DPOP_PROOF_INVALID'],
    ['a stale proof', { iat: now() - 300 }, 'ERR_DPOP_PROOF_INVALID'],
    ['a proof from the future', { iat: now() + 300 }, 'ERR_DPOP_PROOF_INVALID'],
    ['a proof for another token (ath)', { accessToken: 'other' }, 'ERR_DPOP_PROOF_INVALID'],
  ] as const)('refuses %s with invalid_dpop_proof', async (_case, proof, code) => {
    const res = await call('/me', proof);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_dpop_proof', code });
    expect(res.challenge).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="/);
  });

  it('refuses a replayed proof and a proof from another key', async () => {
    const proof = createDPoPProof(key, { htm: 'GET', htu: `${app.url}/me`, accessToken: token });
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    expect((await send(`${app.url}/me`, { headers })).status).toBe(200);
    const again = await send(`${app.url}/me`, { headers });
    expect(again.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_PROOF_REPLAYED' });
    const thief = generateKeyPair('ES256');
    const stolen = await send(`${app.url}/me`, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: createDPoPProof(thief, { htm: 'GET', htu: `${app.url}/me`, accessToken: token }),
      },
    });
    expect(stolen.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_KEY_MISMATCH' });
  });

  it('refuses an unbound token sent as DPoP, and keeps Bearer working for it', async () => {
    const plain = issuer.tokens.sign();
    const asDPoP = await call('/me', {}, { token: plain });
    expect(asDPoP.body).toMatchObject({ error: 'invalid_token', code: 'ERR_DPOP_KEY_MISMATCH' });
    expect((await send(`${app.url}/me`, { headers: { authorization: `Bearer ${plain}` } })).status).toBe(200);
  });

  it('asks for its nonce (use_dpop_nonce + DPoP-Nonce) and accepts the retry', async () => {
    const first = await call('/me', {}, { base: nonceApp });
    expect(first.status).toBe(401);
    expect(first.body).toMatchObject({ error: 'use_dpop_nonce', code: 'ERR_DPOP_NONCE_REQUIRED' });
    expect(first.challenge).toMatch(/^DPoP error="use_dpop_nonce"/);
    expect(first.nonce).toBeTruthy();
    const second = await call('/me', { nonce: first.nonce! }, { base: nonceApp });
    expect(second.status).toBe(200);
  });

  it('offers both schemes when no token is sent and DPoP is configured', async () => {
    const res = await send(`${nonceApp.url}/me`, { headers: {} });
    expect(res.challenge).toMatch(/^Bearer realm="jot", DPoP algs="ES256 /);
  });
});

describe('DPoP behind a proxy, across instances, and interop', () => {
  const harness = useIssuerVerifier();
  /** A verifier for this test's issuer (closed after it), with `dpop` when given. */
  const verifierWith = (dpop?: DPoPOptions): Verifier => harness.build(dpop === undefined ? {} : { dpop });

  const request = (url: string, token: string, proof: string) => ({
    url,
    method: 'GET',
    headers: { authorization: `DPoP ${token}`, dpop: proof },
  });

  it('verify(token), which has no request to take a proof from, refuses a bound token; with required, any', async () => {
    const refusal = async (verifier: Verifier, token: string) => {
      try {
        await verifier.verify(token);
        return 'accepted';
      } catch (err) {
        return (err as { code?: string; reason?: string }).code + ' ' + (err as { reason?: string }).reason;
      }
    };
    const bound = harness.issuer.tokens.sign({ cnf: { jkt: key.thumbprint() } });
    const unbound = harness.issuer.tokens.sign();
    expect(await refusal(verifierWith({}), bound)).toBe('ERR_DPOP_REQUIRED no_request');
    expect(await refusal(verifierWith(), bound)).toBe('ERR_DPOP_REQUIRED no_request');
    expect(await refusal(verifierWith({ required: true }), unbound)).toBe('ERR_DPOP_REQUIRED policy');
    expect(await refusal(verifierWith({}), unbound)).toBe('accepted');
  });

  it('checks htu against the configured external URL', async () => {
    const verifier = verifierWith({ externalUrl: 'https://api.example.com/v1/' });
    await verifier.ready();
    const token = harness.issuer.tokens.sign({ cnf: { jkt: key.thumbprint() } });
    const external = createDPoPProof(key, {
      htm: 'GET',
      htu: 'https://api.example.com/v1/orders',
      accessToken: token,
    });
    const ok = await verifier.authenticate(request('/orders?x=1', token, external));
    expect(ok.ok).toBe(true);
    const internal = createDPoPProof(key, {
      htm: 'GET',
      htu: 'http://10.0.0.5:8080/orders',
      accessToken: token,
    });
    const refused = await verifier.authenticate({
      ...request('/orders', token, internal),
      headers: { ...request('', token, internal).headers, host: '10.0.0.5:8080' },
    });
    expect(refused.ok).toBe(false);
  });

  it('verifies a proof made by the jose package', async () => {
    const verifier = verifierWith();
    await verifier.ready();
    const { privateKey, publicKey } = await joseKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const token = harness.issuer.tokens.sign({ cnf: { jkt: await calculateJwkThumbprint(jwk) } });
    const proof = await new SignJWT({ htm: 'GET', htu: 'https://api.test/me', ath: accessTokenHash(token) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    const result = await verifier.authenticate(request('https://api.test/me', token, proof));
    expect(result.ok).toBe(true);
  });

  it('refuses a replay at a second instance when both remember proofs in Redis', async () => {
    if (!(await requireRedis('verify DPoP replay through Redis'))) return;
    const redis = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    const prefix = `jot:test:dpop:${Date.now()}:`;
    const verifiers = redis.map((r) => verifierWith({ replay: { redis: r, prefix } }));
    try {
      await Promise.all(verifiers.map((v) => v.ready()));
      const token = harness.issuer.tokens.sign({ cnf: { jkt: key.thumbprint() } });
      const proof = createDPoPProof(key, { htm: 'GET', htu: 'https://api.test/me', accessToken: token });
      const results = await Promise.all(
        [0, 1, 0, 1].map((i) => verifiers[i]!.authenticate(request('https://api.test/me', token, proof))),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.error.code === 'ERR_DPOP_PROOF_REPLAYED')).toHaveLength(3);
    } finally {
      redis.forEach((r) => r.disconnect());
    }
  });
});
