/**
 * A refusal that quotes the caller's own value (an unknown scope, resource, grant type, path or field name) quotes at
 * most 100 characters of it, cut with `...`: a huge value never makes a huge answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { echoed, echoedList, MAX_ECHOED } from '../src/services/echoed.js';
import type { TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';

/** Longest description a refusal quoting one huge value may have: the value's 100 characters and our words. */
const BOUND = 400;

describe('echoed', () => {
  it('keeps a short value as it is and cuts a long one to 100 characters and "..."', () => {
    expect(echoed('read')).toBe('read');
    expect(echoed('x'.repeat(MAX_ECHOED))).toBe('x'.repeat(MAX_ECHOED));
    expect(echoed('x'.repeat(1_000_000))).toBe(`${'x'.repeat(MAX_ECHOED)}...`);
  });

  it('never cuts a surrogate pair in half', () => {
    const text = `${'x'.repeat(MAX_ECHOED - 1)}😀${'y'.repeat(10)}`;
    expect(echoed(text)).toBe(`${'x'.repeat(MAX_ECHOED - 1)}...`);
  });

  it('bounds a list of values as one line', () => {
    expect(echoedList(['a', 'b'])).toBe('"a", "b"');
    expect(echoedList(Array.from({ length: 1000 }, (_, i) => `https://api${i}.example`))).toHaveLength(
      MAX_ECHOED + 3,
    );
  });
});

describe('refusals over HTTP quote a huge value bounded', () => {
  let server: TestServer;
  let clientAuth: Record<string, string>;

  beforeAll(async () => {
    server = await startIssuer();
    const admin = await adminToken(server);
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'echo test',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      audiences: ['https://api.example'],
      scopes: ['read'],
    });
    const basic = Buffer.from(`${client.client_id}:${client_secret ?? ''}`).toString('base64');
    clientAuth = { authorization: `Basic ${basic}` };
  });
  afterAll(async () => {
    await server?.close();
  });

  it('an unknown path of 6000 characters → 404 quoting 100 of them', async () => {
    const res = await server.request('GET', `/api/${'p'.repeat(6000)}`);
    expect(res.status).toBe(404);
    expect(res.body.error_description).toBe(`no route GET ${echoed(`/api/${'p'.repeat(6000)}`)}`);
    const post = await server.request('POST', `/api/${'p'.repeat(6000)}`, { body: {} });
    expect(post.status).toBe(404);
    expect(post.body.error_description.length).toBeLessThan(BOUND);
  });

  it('a scope of 9000 characters at /oauth/token → invalid_scope quoting 100 of them', async () => {
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', scope: `read ${'s'.repeat(9000)}` },
      clientAuth,
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_scope', code: 'ERR_SCOPE_WIDENED' });
    expect(res.body.error_description).toBe(`not allowed: '${'s'.repeat(MAX_ECHOED)}...'`);
  });

  it('200 unknown resources → invalid_target with a bounded description', async () => {
    const params = new URLSearchParams({ grant_type: 'client_credentials' });
    for (let i = 0; i < 200; i++) params.append('resource', `https://other${i}.example`);
    const res = await postForm(server, '/oauth/token', params, clientAuth);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_target', code: 'ERR_INVALID_TARGET' });
    expect(res.body.error_description.length).toBeLessThan(BOUND);
    expect(res.body.error_description).toMatch(/\.\.\.$/);
  });

  it('a resource indicator of 5000 characters is quoted bounded', async () => {
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', resource: `https://a.example/${'r'.repeat(5000)}` },
      clientAuth,
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_INVALID_TARGET');
    expect(res.body.error_description.length).toBeLessThan(BOUND);
  });

  it('an unknown grant type of 9000 characters → unsupported_grant_type quoting 100 of them', async () => {
    const res = await postForm(server, '/oauth/token', { grant_type: 'g'.repeat(9000) }, clientAuth);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_GRANT_UNSUPPORTED');
    expect(res.body.error_description).toContain(`'${'g'.repeat(MAX_ECHOED)}...'`);
    expect(res.body.error_description.length).toBeLessThan(BOUND);
  });

  it('an unknown field name of 6000 characters in a JSON body is quoted bounded', async () => {
    const res = await server.request('POST', '/api/login', {
      body: { email: 'a@example.com', password: 'long enough', ['f'.repeat(6000)]: 1 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error_description).toBe(`body: unknown field "${'f'.repeat(MAX_ECHOED)}..."`);
  });
});
