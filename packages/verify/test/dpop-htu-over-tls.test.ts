/**
 * The `htu` of a bare `node:http` request on an `https` server: such a request has no `protocol` (only Express and
 * Fastify add one), so the URL was built as `http://…` and every DPoP proof for the real `https://…` URL failed. The
 * connection being TLS (`socket.encrypted`) now makes it `https`; a framework's own `protocol` still wins.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDPoPProof, generateKeyPair } from '@jot/jose';

import type { Verifier } from '../src/index.js';
import { requestUrl } from '../src/dpop.js';
import { startIssuerVerifier } from './support/issuer-verifier.js';
import type { FakeIssuer } from '../../../test-support/fake-issuer.js';

/** A `node:http` request as an `https` server hands it over: an `IncomingMessage` on a TLS socket. */
function tlsRequest(headers: Record<string, string>): IncomingMessage {
  const request = new IncomingMessage(new TLSSocket(new Socket()));
  request.method = 'GET';
  request.url = '/me';
  request.headers = { host: 'api.example.com', ...headers };
  return request;
}

describe('requestUrl', () => {
  it('is https for a bare node:http request on a TLS connection', () => {
    expect(requestUrl(tlsRequest({}), undefined)).toBe('https://api.example.com/me');
  });

  it('is http on a plain connection, and a framework protocol wins over the socket', () => {
    const plain = { method: 'GET', url: '/me', headers: { host: 'a.example' }, socket: new Socket() };
    expect(requestUrl(plain, undefined)).toBe('http://a.example/me');
    // Express behind a proxy that ends TLS, without trust proxy: it says http, whatever the socket.
    const tls = { ...plain, socket: { encrypted: true }, protocol: 'http' };
    expect(requestUrl(tls, undefined)).toBe('http://a.example/me');
  });
});

describe('a DPoP-bound token on a node:http https server', () => {
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

  it('is accepted with a proof for its https URL', async () => {
    const token = issuer.tokens.sign({ cnf: { jkt: key.thumbprint() } });
    const proof = createDPoPProof(key, { htm: 'GET', htu: 'https://api.example.com/me', accessToken: token });
    const result = await verifier.authenticate(tlsRequest({ authorization: `DPoP ${token}`, dpop: proof }));
    expect(result).toMatchObject({ ok: true, auth: { via: 'dpop' } });
  });
});
