/**
 * `authenticate` resolves for anything a request or a dependency can cause: a Host header that makes no URL (Node's
 * parser accepts `Host: a b`) with a DPoP-bound token is refused as a proof for another URL (401
 * `ERR_DPOP_PROOF_INVALID`, `reason` `htu`) in every adapter, rather than a `TypeError` that killed a `node:http`
 * server and was a 500 elsewhere; a DPoP replay store that is down, or any step that throws, is a 503.
 */
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDPoPProof, generateKeyPair } from '@jot/jose';

import {
  createRequestAuth,
  createRequestDPoP,
  createVerifier,
  VerifyError,
  type Verifier,
} from '../src/index.js';
import { ADAPTERS, type Mounted } from './support/adapters.js';
import { startIssuerVerifier } from './support/issuer-verifier.js';
import { AUDIENCE, type FakeIssuer } from '../../../test-support/fake-issuer.js';
import { recordingLogger } from './support/wait.js';

const key = generateKeyPair('ES256');
let issuer: FakeIssuer;
let verifier: Verifier;

beforeAll(async () => {
  ({ issuer, verifier } = await startIssuerVerifier());
});

afterAll(async () => {
  await verifier?.close();
  await issuer?.close();
});

/** A DPoP-bound token and a proof for it (made for a URL the request cannot be). */
function boundRequest(): { token: string; proof: string } {
  const token = issuer.tokens.sign({ cnf: { jkt: key.thumbprint() } });
  return {
    token,
    proof: createDPoPProof(key, { htm: 'GET', htu: 'http://api.example/me', accessToken: token }),
  };
}

/** Sends a raw request (a Host no HTTP client would send) and returns the status, or 0 without an answer. */
function rawStatus(url: string, request: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}

describe('a Host header that makes no URL, with a DPoP-bound token', () => {
  it('authenticate resolves to the htu refusal (401 ERR_DPOP_PROOF_INVALID)', async () => {
    const { token, proof } = boundRequest();
    const result = await verifier.authenticate({
      method: 'GET',
      url: '/me',
      headers: { host: 'api example', authorization: `DPoP ${token}`, dpop: proof },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'ERR_DPOP_PROOF_INVALID', reason: 'htu', status: 401 });
    expect(result.response.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  it('an absolute request URL that does not parse, with an external URL, is the same refusal', async () => {
    const dpopVerifier = createVerifier({
      issuer: issuer.url,
      audience: AUDIENCE,
      revocation: 'none',
      logger: recordingLogger(),
      dpop: { externalUrl: 'https://api.example' },
    });
    const { token, proof } = boundRequest();
    const result = await dpopVerifier.authenticate({
      method: 'GET',
      url: 'http://a b/me',
      headers: { authorization: `DPoP ${token}`, dpop: proof },
    });
    await dpopVerifier.close();
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR_DPOP_PROOF_INVALID', reason: 'htu' } });
  });

  describe.each(ADAPTERS)('%s adapter', (name, mount) => {
    let app: Mounted;
    beforeAll(async () => {
      app = await mount(verifier);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('answers a client error, never a 500 or a dead process', async () => {
      const { token, proof } = boundRequest();
      const status = await rawStatus(
        app.url,
        `GET /me HTTP/1.1\r\nHost: api example\r\nAuthorization: DPoP ${token}\r\nDPoP: ${proof}\r\n` +
          'Connection: close\r\n\r\n',
      );
      // @hono/node-server refuses the request itself (it builds the URL before the app runs): a 400.
      expect(status).toBe(name === 'hono' ? 400 : 401);
    });
  });
});

describe('a dependency that fails', () => {
  it('a DPoP replay store that is down (Redis) is a 503 ERR_VERIFY_UNAVAILABLE, logged, not a rejection', async () => {
    const logger = recordingLogger();
    const down = createVerifier({
      issuer: issuer.url,
      audience: AUDIENCE,
      revocation: 'none',
      logger,
      dpop: {
        replay: { redis: { set: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) } },
      },
    });
    const token = issuer.tokens.sign({ cnf: { jkt: key.thumbprint() } });
    const proof = createDPoPProof(key, { htm: 'GET', htu: 'http://api.example/me', accessToken: token });
    const result = await down.authenticate({
      method: 'GET',
      url: '/me',
      headers: { host: 'api.example', authorization: `DPoP ${token}`, dpop: proof },
    });
    await down.close();
    // Not a revocation problem: its own code, naming the step that failed.
    expect(result).toMatchObject({
      ok: false,
      error: {
        code: 'ERR_VERIFY_UNAVAILABLE',
        reason: 'dpop',
        status: 503,
        error: 'temporarily_unavailable',
      },
      response: {
        status: 503,
        headers: { 'retry-after': '1' },
        body: { code: 'ERR_VERIFY_UNAVAILABLE', error: 'temporarily_unavailable' },
      },
    });
    expect(logger.lines).toContainEqual({
      level: 'error',
      message: expect.stringMatching(/^a request could not be authenticated: its dpop step failed/),
    });
  });

  it('createRequestAuth: any step that throws resolves to a 503 with the error as its cause', async () => {
    const outage = new Error('database connection lost');
    const auth = createRequestAuth({
      verifyToken: () => ({ sub: 'u1' }) as never,
      checkRevocation: () => Promise.reject(outage),
      dpop: createRequestDPoP({}, Date.now, 5000),
      cookieNames: [],
    });
    const result = await auth.authenticate({ method: 'GET', headers: { authorization: 'Bearer abc' } });
    expect(result).toMatchObject({ ok: false, response: { status: 503 } });
    if (!result.ok) expect(result.error.cause).toBe(outage);
  });

  it('createRequestAuth: only the revocation step throwing is ERR_VERIFY_REVOCATION_UNAVAILABLE; any other step is ERR_VERIFY_UNAVAILABLE', async () => {
    const outage = new Error('connection lost');
    const throwing = (): never => {
      throw outage;
    };
    const base = {
      verifyToken: () => ({ sub: 'u1' }) as never,
      checkRevocation: () => undefined,
      dpop: createRequestDPoP({}, Date.now, 5000),
      cookieNames: ['at'],
    };
    const bearer = { method: 'GET', headers: { authorization: 'Bearer abc' } };
    const cases = [
      [{ verifyToken: throwing }, bearer, 'ERR_VERIFY_UNAVAILABLE', 'token'],
      [{ cookieNames: throwing }, bearer, 'ERR_VERIFY_UNAVAILABLE', 'token'],
      [{ dpop: { check: () => Promise.reject(outage) } }, bearer, 'ERR_VERIFY_UNAVAILABLE', 'dpop'],
      [
        {
          verifyToken: () =>
            ({
              sub: 'u1',
              get cth(): never {
                throw outage;
              },
            }) as never,
        },
        { method: 'POST', headers: { cookie: 'at=abc', 'x-csrf-token': 'x' } },
        'ERR_VERIFY_UNAVAILABLE',
        'csrf',
      ],
      [{ checkRevocation: throwing }, bearer, 'ERR_VERIFY_REVOCATION_UNAVAILABLE', 'failure'],
    ] as const;
    for (const [override, request, code, reason] of cases) {
      const steps: string[] = [];
      const told = createRequestAuth({
        ...base,
        ...override,
        onFailure: (err, step) => {
          steps.push(step);
          throw err;
        },
      });
      await expect(told.authenticate(request)).rejects.toBe(outage);
      const auth = createRequestAuth({ ...base, ...override });
      const result = await auth.authenticate(request);
      expect(result, `${code} ${reason}`).toMatchObject({
        ok: false,
        error: { code, reason, status: 503, cause: outage },
        response: { status: 503, headers: { 'retry-after': '1' } },
      });
      expect(steps).toEqual([reason === 'failure' ? 'revocation' : reason]);
    }
  });

  it('createRequestAuth: onFailure makes the refusal, or rethrows to let the error propagate', async () => {
    const outage = new Error('database connection lost');
    const options = {
      verifyToken: (): never => {
        throw outage;
      },
      checkRevocation: () => undefined,
      dpop: createRequestDPoP({}, Date.now, 5000),
      cookieNames: [],
    };
    const rethrown = createRequestAuth({
      ...options,
      onFailure: (err) => {
        throw err;
      },
    });
    const request = { method: 'GET', headers: { authorization: 'Bearer abc' } };
    await expect(rethrown.authenticate(request)).rejects.toBe(outage);
    const own = createRequestAuth({
      ...options,
      onFailure: () => new VerifyError('ERR_VERIFY_KEYS_UNAVAILABLE', 'no keys yet'),
    });
    expect(await own.authenticate(request)).toMatchObject({
      ok: false,
      error: { code: 'ERR_VERIFY_KEYS_UNAVAILABLE' },
      response: { status: 503 },
    });
  });
});
