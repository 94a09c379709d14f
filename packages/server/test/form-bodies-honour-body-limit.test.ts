/**
 * Regression (operator walkthrough 2026-12-02): the form bodies of `/oauth/token`, `/oauth/revoke`,
 * `/oauth/introspect` (a fixed 32 KiB) and `/api/introspect` (a fixed 16 KiB) ignored `JOT_BODY_LIMIT`, which
 * docs/http-api.md says answers 413 to any body over it. Now every form body has the configured limit: over it, 413
 * `ERR_BODY_TOO_LARGE` (in RFC 6749 §5.2's shape with `no-store` on the OAuth endpoints), and a body above the old
 * fixed limits but within a raised one is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { postForm, startIssuer } from './support/oauth.js';

const SECRET = 'r'.repeat(40);
const OAUTH = ['/oauth/token', '/oauth/revoke', '/oauth/introspect'];

describe('form bodies with JOT_BODY_LIMIT=2kb', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startIssuer({ bodyLimit: '2kb', revocationSecret: SECRET });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(OAUTH)('%s answers a 3 KiB form 413 invalid_request, not stored by caches', async (path) => {
    const res = await postForm(server, path, {
      grant_type: 'client_credentials',
      token: 'x',
      pad: 'a'.repeat(3000),
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_BODY_TOO_LARGE' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('/api/introspect answers a 3 KiB form 413 ERR_BODY_TOO_LARGE', async () => {
    const res = await postForm(
      server,
      '/api/introspect',
      { token: 'x', pad: 'a'.repeat(3000) },
      { authorization: `Bearer ${SECRET}` },
    );
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('ERR_BODY_TOO_LARGE');
  });
});

describe('form bodies with JOT_BODY_LIMIT=64kb', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startIssuer({ bodyLimit: '64kb', revocationSecret: SECRET });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(OAUTH)('%s reads a 40 KiB form (past the old fixed 32 KiB)', async (path) => {
    const res = await postForm(server, path, { token: 'x', pad: 'a'.repeat(40_000) });
    expect(res.status).not.toBe(413);
  });

  it('/api/introspect reads a 40 KiB form (past the old fixed 16 KiB)', async () => {
    const res = await postForm(
      server,
      '/api/introspect',
      { token: 'x', pad: 'a'.repeat(40_000) },
      { authorization: `Bearer ${SECRET}` },
    );
    expect(res.status).toBe(200);
  });
});
