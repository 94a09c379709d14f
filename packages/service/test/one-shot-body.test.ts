/**
 * A request body that can be read only once — a WHATWG ReadableStream, and also what Node's fetch accepts besides:
 * a Node stream or any async iterable (`duplex: 'half'`) — is never sent twice: after a 401 `invalid_token` or a
 * resource server's `use_dpop_nonce` the first response is handed back instead of a retry with a consumed body.
 * Replayable bodies (string, Blob, bytes, URLSearchParams, FormData) are still retried.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createServiceClient } from '../src/index.js';

const TOKEN = 'https://auth.example.com/oauth/token';
const API = 'https://orders.internal/orders';

function tokenAnswer(token: string, type = 'Bearer'): Response {
  return new Response(JSON.stringify({ access_token: token, token_type: type, expires_in: 900 }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}

/** A resource server stub that answers `first` once, then 200; it counts the calls. */
function stubbed(first: () => Response, dpop = false) {
  let issued = 0;
  const calls: RequestInit[] = [];
  const service = createServiceClient({
    issuer: 'https://auth.example.com',
    tokenEndpoint: TOKEN,
    clientId: 'billing',
    clientSecret: 's'.repeat(40),
    dpop,
    fetch: (input, init) => {
      if (input === TOKEN) return Promise.resolve(tokenAnswer(`t${++issued}`, dpop ? 'DPoP' : 'Bearer'));
      calls.push(init ?? {});
      return Promise.resolve(calls.length === 1 ? first() : new Response('ok'));
    },
  });
  return { service, calls };
}

const invalidToken = () =>
  new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
const useNonce = () =>
  new Response(null, {
    status: 401,
    headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n-1' },
  });

async function* chunks(): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode('{"amount":100}');
}

const oneShot: [string, () => unknown][] = [
  ['a Node Readable', () => Readable.from([Buffer.from('{"amount":100}')])],
  ['an async generator', () => chunks()],
  ['a ReadableStream', () => new Blob(['{"amount":100}']).stream()],
];

describe('one-shot request bodies', () => {
  it('hands back the 401 of a real server instead of resending a consumed Node stream', async () => {
    const bodies: string[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(parts).toString());
        if (bodies.length === 1) {
          res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
        } else res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
    const service = createServiceClient({
      issuer: 'https://auth.example.com',
      tokenEndpoint: TOKEN,
      clientId: 'billing',
      clientSecret: 's'.repeat(40),
      fetch: (input, init) => (input === TOKEN ? Promise.resolve(tokenAnswer('t1')) : fetch(input, init)),
    });
    try {
      const init = { method: 'POST', body: Readable.from([Buffer.from('{"amount":100}')]), duplex: 'half' };
      const res = await service.fetch(api, {}, init as unknown as RequestInit);
      expect(res.status).toBe(401);
      expect(bodies).toEqual(['{"amount":100}']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each(oneShot)('does not retry %s after a 401 invalid_token', async (_name, body) => {
    const { service, calls } = stubbed(invalidToken);
    const res = await service.fetch(API, {}, { method: 'POST', body: body() as BodyInit });
    expect(res.status).toBe(401);
    expect(calls).toHaveLength(1);
  });

  it.each(oneShot)("does not retry %s after a resource server's use_dpop_nonce", async (_name, body) => {
    const { service, calls } = stubbed(useNonce, true);
    const res = await service.fetch(API, {}, { method: 'POST', body: body() as BodyInit });
    expect(res.status).toBe(401);
    expect(calls).toHaveLength(1);
  });

  it('still retries a replayable body', async () => {
    const replayable: (() => BodyInit | undefined)[] = [
      () => undefined,
      () => '{"amount":100}',
      () => new Blob(['x']),
      () => new Uint8Array([1, 2]),
      () => new ArrayBuffer(2),
      () => new URLSearchParams({ a: '1' }),
      () => new FormData(),
    ];
    for (const body of replayable) {
      const invalid = stubbed(invalidToken);
      expect((await invalid.service.fetch(API, {}, { method: 'POST', body: body() })).status).toBe(200);
      expect(invalid.calls).toHaveLength(2);
      const nonce = stubbed(useNonce, true);
      expect((await nonce.service.fetch(API, {}, { method: 'POST', body: body() })).status).toBe(200);
      expect(nonce.calls).toHaveLength(2);
    }
  });
});
