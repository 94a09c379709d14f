/**
 * Discovered endpoints are held to the issuer: an https issuer's `jwks_uri` must be https, and the endpoints that
 * receive the revocation secret must be on the issuer's own origin (else the `<issuer>/api/…` default, with a
 * warning). Explicit options may point anywhere.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { createVerifier, type FetchLike, type Verifier } from '../src/index.js';
import { discoverIssuer } from '../src/discovery.js';
import { recordingLogger, waitFor } from './support/wait.js';

const ISSUER = 'https://auth.example.com';
const SECRET = 'feed-secret-0123456789-0123456789-abcdef';

let verifier: Verifier | undefined;

afterEach(async () => {
  await verifier?.close();
  verifier = undefined;
});

/** A fetch that serves `metadata` at the discovery URL, an empty snapshot anywhere, and records every call. */
function fakeFetch(metadata: Record<string, unknown>): {
  fetch: FetchLike;
  calls: { url: string; authorization: string | null }[];
} {
  const calls: { url: string; authorization: string | null }[] = [];
  const json = (body: unknown): Response =>
    new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  const fetch: FetchLike = (input, init) => {
    calls.push({ url: input, authorization: new Headers(init?.headers).get('authorization') });
    const url = new URL(input);
    if (url.pathname === '/.well-known/openid-configuration') return Promise.resolve(json(metadata));
    if (url.pathname.endsWith('/stream')) return Promise.resolve(new Response('down', { status: 503 }));
    return Promise.resolve(json({ entries: [], cursor: '0', has_more: false, snapshot: true }));
  };
  return { fetch, calls };
}

describe('discovery', () => {
  it('refuses an http jwks_uri for an https issuer, but accepts an https one on another origin', async () => {
    const insecure = fakeFetch({ issuer: ISSUER, jwks_uri: 'http://auth.example.com/jwks.json' });
    await expect(discoverIssuer(ISSUER, { fetch: insecure.fetch })).rejects.toThrow(/no usable "jwks_uri"/);
    const cdn = fakeFetch({ issuer: ISSUER, jwks_uri: 'https://cdn.example.net/jwks.json' });
    expect((await discoverIssuer(ISSUER, { fetch: cdn.fetch })).jwks_uri).toBe(
      'https://cdn.example.net/jwks.json',
    );
  });

  it('requires a JSON content type for the metadata', async () => {
    const fetch: FetchLike = () =>
      Promise.resolve(new Response(JSON.stringify({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` })));
    await expect(discoverIssuer(ISSUER, { fetch })).rejects.toThrow(/JSON content type/);
  });

  it('ignores secret-bearing endpoints off the issuer origin, with a warning', async () => {
    const logger = recordingLogger();
    const { fetch } = fakeFetch({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/jwks.json`,
      revocation_feed_endpoint: 'https://collector.other.net/feed',
      revocation_stream_endpoint: 'http://auth.example.com/api/revocations/stream', // same host, not same origin
      introspection_endpoint: 'https://auth.example.com:8443/introspect',
    });
    const metadata = await discoverIssuer(ISSUER, { fetch, logger });
    expect(metadata.revocation_feed_endpoint).toBeUndefined();
    expect(metadata.revocation_stream_endpoint).toBeUndefined();
    expect(metadata.introspection_endpoint).toBeUndefined();
    expect(logger.lines.filter((l) => l.level === 'warn' && /issuer's origin/.test(l.message))).toHaveLength(
      3,
    );
    const same = fakeFetch({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/jwks.json`,
      revocation_feed_endpoint: `${ISSUER}/v2/feed`,
    });
    expect((await discoverIssuer(ISSUER, { fetch: same.fetch })).revocation_feed_endpoint).toBe(
      `${ISSUER}/v2/feed`,
    );
  });

  it('never sends the revocation secret to a discovered foreign endpoint: the issuer default is used', async () => {
    const logger = recordingLogger();
    const { fetch, calls } = fakeFetch({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/jwks.json`,
      revocation_feed_endpoint: 'http://169.254.169.254/latest/feed',
      revocation_stream_endpoint: 'https://collector.other.net/stream',
    });
    verifier = createVerifier({
      issuer: ISSUER,
      audience: 'https://api.example.com',
      revocation: { strategy: 'replicated', secret: SECRET, reconnectDelay: { min: '10ms', max: '50ms' } },
      fetch,
      logger,
    });
    await waitFor(() => calls.some((c) => c.url.endsWith('/stream')), 2000, 'stream attempt');
    const withSecret = calls.filter((c) => c.authorization === `Bearer ${SECRET}`).map((c) => c.url);
    expect(withSecret.length).toBeGreaterThanOrEqual(2);
    for (const url of withSecret) expect(new URL(url).origin).toBe(ISSUER);
    expect(withSecret).toContain(`${ISSUER}/api/revocations`);
    expect(withSecret).toContain(`${ISSUER}/api/revocations/stream`);
  });

  it('still lets explicit options point elsewhere', async () => {
    const { fetch, calls } = fakeFetch({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks.json` });
    verifier = createVerifier({
      issuer: ISSUER,
      audience: 'https://api.example.com',
      revocation: {
        strategy: 'replicated',
        secret: SECRET,
        feedUrl: 'https://feed.internal.example/revocations',
        streamUrl: 'https://feed.internal.example/revocations/stream',
      },
      fetch,
      logger: recordingLogger(),
    });
    await waitFor(() => calls.some((c) => c.url.endsWith('/stream')), 2000, 'stream attempt');
    expect(calls.map((c) => c.url)).toContain('https://feed.internal.example/revocations');
  });
});
