/**
 * Bounded HTTP reads for the JWKS and metadata: a body over the limit is refused as it streams (or from its
 * Content-Length) instead of being buffered whole, content types and UTF-8 are checked, redirects are refused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { generateKeyPair } from '@jot/jose';
import { afterEach, describe, expect, it } from 'vitest';

import { RemoteJWKS } from '../src/remote-jwks.js';
import { readJSONObject, readText } from '../src/http.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const jwks = (): string =>
  JSON.stringify({ keys: [generateKeyPair('ES256', { kid: 'k1' }).publicKey().toJWK()] });

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return 'loaded';
}

describe('bounded reads', () => {
  it('refuses a JWKS that keeps streaming past the limit as soon as it passes it, not at the timeout', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(Buffer.alloc(2 << 20, 0x20)); // 2 MiB of spaces, and the body never ends
    });
    const started = Date.now();
    const message = await failure(new RemoteJWKS({ uri: `${base}/jwks`, timeoutMs: 30_000 }).load());
    expect(message).toMatch(/answered more than 1048576 bytes/);
    expect(Date.now() - started).toBeLessThan(10_000); // far from the 30 s timeout, on any machine
  });

  it('refuses a Content-Length over the limit before reading anything', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 << 20) });
      res.write('{'); // and nothing more
    });
    const started = Date.now();
    expect(await failure(new RemoteJWKS({ uri: `${base}/jwks`, timeoutMs: 30_000 }).load())).toMatch(
      /more than 1048576 bytes/,
    );
    expect(Date.now() - started).toBeLessThan(10_000); // far from the 30 s timeout, on any machine
  });

  it('requires a JSON content type for the JWKS, with +json types and parameters allowed', async () => {
    let type = 'text/html';
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': type });
      res.end(jwks());
    });
    expect(await failure(new RemoteJWKS({ uri: `${base}/jwks` }).load())).toMatch(/JSON content type/);
    type = 'application/jwk-set+json; charset=utf-8';
    expect(await failure(new RemoteJWKS({ uri: `${base}/jwks` }).load())).toBe('loaded');
  });

  it('refuses invalid UTF-8 rather than decoding it to U+FFFD', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const doc = Buffer.from(jwks().replace('"k1"', '"k\u0001"'));
      doc[doc.indexOf(1)] = 0xff;
      res.end(doc);
    });
    expect(await failure(new RemoteJWKS({ uri: `${base}/jwks` }).load())).toMatch(/invalid UTF-8/);
  });

  it('does not follow redirects', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/jwks') {
        res.writeHead(302, { location: '/elsewhere' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(jwks());
    });
    expect(await failure(new RemoteJWKS({ uri: `${base}/jwks` }).load())).toMatch(/request to .* failed/);
    expect(await failure(new RemoteJWKS({ uri: `${base}/elsewhere` }).load())).toBe('loaded');
  });

  it('reads bodies up to the limit exactly, and an empty body as no JSON', async () => {
    expect(await readText(new Response('x'.repeat(10)), 'u', 10)).toBe('x'.repeat(10));
    await expect(readText(new Response('x'.repeat(11)), 'u', 10)).rejects.toThrow(/more than 10 bytes/);
    await expect(readJSONObject(new Response(null), 'u')).rejects.toThrow(/did not answer JSON/);
    expect(await readJSONObject(new Response('\uFEFF{"a":1}'), 'u')).toEqual({ a: 1 });
  });
});
