/**
 * Encrypted access tokens (JOT_ENCRYPTION_KEYS): tokens for a registered audience are nested JWTs that only the key
 * holder reads — the server itself for its own audience, `jose` as a stock decrypter — and the loader refuses
 * registrations that would leave the server unable to read its own tokens.
 */

import { compactDecrypt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';
import { loadConfig } from '@jot/server';

import { dpopClient } from './support/dpop.js';
import { startServer, TEST_SETTINGS, type TestServer } from './support/jot-server.js';
import { keyPair } from '../../../test-support/key-pair.js';

const PASSWORD = 'correct horse battery';
const AUDIENCE = 'https://api.example.com';

function ecJwk(alg = 'ECDH-ES+A256KW') {
  const { privateKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), alg, kid: 'api-enc-1' };
}

describe.each([
  ['ECDH-ES+A256KW', () => ecJwk()],
  [
    'RSA-OAEP-256',
    () => ({
      ...keyPair({ type: 'rsa', modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
      alg: 'RSA-OAEP-256',
      kid: 'api-enc-2',
    }),
  ],
] as const)('access tokens encrypted with %s', (alg, makeKey) => {
  let server: TestServer;
  const jwk = makeKey();

  beforeAll(async () => {
    server = await startServer({ audience: AUDIENCE, encryptionKeys: JSON.stringify({ [AUDIENCE]: jwk }) });
    await server.request('POST', '/api/register', { body: { email: 'e@example.com', password: PASSWORD } });
  });
  afterAll(() => server?.close());

  it('issues a nested JWT the server reads and jose decrypts; the payload is not readable without the key', async () => {
    const login = await server.request('POST', '/api/login', {
      body: { email: 'e@example.com', password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    expect(token.split('.')).toHaveLength(5);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header).toMatchObject({ alg, enc: 'A256GCM', cty: 'JWT', typ: 'at+jwt', kid: jwk.kid });
    expect(header.zip).toBeUndefined();
    expect(() => decodeUnverified(token)).toThrow();

    const who = await server.request('GET', '/api/whoami', { token });
    expect(who.status).toBe(200);
    expect(who.body.claims.aud).toBe(AUDIENCE);

    const { plaintext } = await compactDecrypt(token, jwk);
    const inner = decodeUnverified(new TextDecoder().decode(plaintext));
    expect(inner.header).toMatchObject({ typ: 'at+jwt' });
    expect(inner.payload.sub).toBe(who.body.user.id);
  });

  it('encrypts DPoP-bound tokens too; ath is over the encrypted token as sent', async () => {
    const client = dpopClient(server);
    const login = await client.request('POST', '/api/login', {
      body: { email: 'e@example.com', password: PASSWORD },
    });
    expect(login.body.token_type).toBe('DPoP');
    const token = login.body.access_token as string;
    expect(token.split('.')).toHaveLength(5);
    expect((await client.request('GET', '/api/whoami', { token })).status).toBe(200);
  });

  it('refuses a tampered encrypted token with one answer', async () => {
    const login = await server.request('POST', '/api/login', {
      body: { email: 'e@example.com', password: PASSWORD },
    });
    const parts = (login.body.access_token as string).split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0]! ^= 1;
    parts[3] = ct.toString('base64url');
    const res = await server.request('GET', '/api/whoami', { token: parts.join('.') });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_JWE_DECRYPTION_FAILED');
  });
});

describe('JOT_ENCRYPTION_KEYS validation', () => {
  const load = (overrides: Record<string, string>) =>
    loadConfig({
      env: {},
      file: false,
      overrides: { ...TEST_SETTINGS, dataDir: '/tmp/jot-enc-config', ...overrides },
    });

  it('refuses a public key for the server’s own audience, keys for only some audiences, and bad keys', () => {
    const pub = { ...ecJwk() } as Record<string, unknown>;
    delete pub.d;
    expect(() => load({ audience: AUDIENCE, encryptionKeys: JSON.stringify({ [AUDIENCE]: pub }) })).toThrow(
      /JOT_ENCRYPTION_KEYS.*private JWK/,
    );
    expect(() =>
      load({
        audience: `${AUDIENCE},https://other.example.com`,
        encryptionKeys: JSON.stringify({ [AUDIENCE]: ecJwk() }),
      }),
    ).toThrow(/JOT_ENCRYPTION_KEYS.*every JOT_AUDIENCE/);
    expect(() =>
      load({ encryptionKeys: JSON.stringify({ [AUDIENCE]: { ...ecJwk(), alg: 'RSA1_5' } }) }),
    ).toThrow(/JOT_ENCRYPTION_KEYS/);
    expect(() => load({ encryptionKeys: '{not json' })).toThrow(/JOT_ENCRYPTION_KEYS.*JSON/);
  });

  it('accepts public keys for other audiences and keeps every key out of the config JSON', () => {
    const config = load({ encryptionKeys: JSON.stringify({ 'https://orders.example.com': ecJwk() }) });
    expect(Object.keys(config.encryptionKeys)).toEqual(['https://orders.example.com']);
    expect(JSON.stringify(config)).not.toContain('"d"');
  });
});
