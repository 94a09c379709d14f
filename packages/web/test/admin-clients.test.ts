/**
 * The OAuth clients page in a real browser: an admin registers a secret client (the secret is shown once and works
 * at the token endpoint) and a key-pair client from a pasted JWK, requires DPoP of a client and makes it optional
 * again (the token endpoint follows), lets a client introspect any access token or only its own (the introspection
 * endpoint follows), rotates a secret, removes a client after confirming; the page fits a 390 px screen and a
 * desktop width.
 */

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, type TestServer } from '../../server/test/support/jot-server.js';
import { postForm, startIssuer } from '../../server/test/support/oauth.js';
import {
  available,
  ensureBuilt,
  horizontalOverflow,
  launchChromium,
  PASSWORD,
  signedInPage,
} from './support/browser.js';
import { keyPair } from '../../../test-support/key-pair.js';

const ADMIN = 'admin@clients.test';

describe.runIf(available)('OAuth clients page in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  async function adminPage(width = 1280): Promise<Page> {
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width, height: 900 });
    if (width >= 1000) await page.getByRole('link', { name: 'OAuth clients' }).click();
    else await page.goto(`${server.url}/#/admin/clients`);
    await page.getByRole('heading', { name: 'OAuth clients' }).waitFor();
    await page.waitForFunction(() => !document.getElementById('main')?.hasAttribute('aria-busy'));
    return page;
  }

  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
  });

  beforeAll(async () => {
    await ensureBuilt();
    server = await startIssuer({ tokenDelivery: 'cookie' });
    await signUp(server, ADMIN, PASSWORD);
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  it('registers, rotates and removes clients', async () => {
    const page = await adminPage();
    await page.getByRole('cell', { name: 'jot', exact: true }).waitFor();

    await page.locator('#client-name').fill('Reports');
    await page.locator('#client-id').fill('reports');
    await page.locator('#client-method').selectOption('client_secret_basic');
    await page.locator('#client-scopes').fill('orders:read');
    await page.locator('#client-audiences').fill('https://orders.internal');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('Registered reports.').waitFor();
    const secret = (await page.locator('#new-client-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[\w-]{43}$/);
    const grant = { grant_type: 'client_credentials' };
    expect((await postForm(server, '/oauth/token', grant, basic('reports', secret))).status).toBe(200);

    // Require DPoP: the token endpoint refuses the client without a proof, until it is optional again.
    await page.locator('#dpop-reports').click();
    await page.getByText('reports now needs a DPoP proof with every token request.').waitFor();
    expect(await postForm(server, '/oauth/token', grant, basic('reports', secret))).toMatchObject({
      status: 400,
      body: { error: 'invalid_dpop_proof', code: 'ERR_DPOP_REQUIRED' },
    });
    await expect(page.locator('#dpop-reports').textContent()).resolves.toBe('Make DPoP optional');
    await page.locator('#dpop-reports').click();
    await page.getByText('DPoP is optional for reports again.').waitFor();
    expect((await postForm(server, '/oauth/token', grant, basic('reports', secret))).status).toBe(200);
    await expect(page.locator('#dpop-jot').count()).resolves.toBe(0); // the first-party client follows JOT_DPOP

    await page.locator('#rotate-reports').click();
    await page.getByText('A new secret for reports; the old one no longer works.').waitFor();
    const fresh = (await page.locator('#new-client-secret').textContent()) ?? '';
    expect(fresh).not.toBe(secret);
    expect((await postForm(server, '/oauth/token', grant, basic('reports', secret))).status).toBe(401);
    expect((await postForm(server, '/oauth/token', grant, basic('reports', fresh))).status).toBe(200);

    const { publicKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
    await page.locator('#client-name').fill('Billing');
    await page.locator('#client-id').fill('billing');
    await page.locator('#client-method').selectOption('private_key_jwt');
    await page
      .locator('#client-jwks')
      .fill(JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: 'b1' }));
    await page.locator('#client-audiences').fill('https://orders.internal');
    await page.locator('#client-dpop').check();
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('Registered billing.').waitFor();
    await expect(page.locator('#new-client-secret').count()).resolves.toBe(0);
    expect(await server.app.jot.store.getClient('billing')).toMatchObject({
      jwks: { keys: [{ kid: 'b1' }] },
      dpop: 'required',
    });

    // A batch job whose tokens live an hour, and a client whose keys are fetched from its JWKS URL.
    await page.locator('#client-name').fill('Batch');
    await page.locator('#client-id').fill('batch');
    await page.locator('#client-method').selectOption('client_secret_basic');
    await page.locator('#client-audiences').fill('https://orders.internal');
    await page.locator('#client-ttl').fill('3600');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('Registered batch.').waitFor();
    const batchSecret = (await page.locator('#new-client-secret').textContent()) ?? '';
    const batchToken = await postForm(server, '/oauth/token', grant, basic('batch', batchSecret));
    expect(batchToken.body.expires_in).toBe(3600);
    await page.locator('#client-name').fill('Keyed');
    await page.locator('#client-id').fill('keyed');
    await page.locator('#client-method').selectOption('private_key_jwt');
    await page.locator('#client-jwks-uri').fill('https://keyed.example/.well-known/jwks.json');
    await page.locator('#client-audiences').fill('https://orders.internal');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('Registered keyed.').waitFor();
    expect(await server.app.jot.store.getClient('keyed')).toMatchObject({
      jwks: null,
      jwksUri: 'https://keyed.example/.well-known/jwks.json',
    });

    await page.locator('#remove-reports').click();
    const dialog = page.getByRole('dialog', { name: 'Remove the client reports?' });
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('Removed reports.').waitFor();
    expect(await server.app.jot.store.getClient('reports')).toBeUndefined();
    await expect(page.locator('#remove-jot').count()).resolves.toBe(0); // the first-party client stays
  });

  it('registers a resource server that introspects any token, and narrows it to its own', async () => {
    const page = await adminPage();
    await page.locator('#client-name').fill('Orders API');
    await page.locator('#client-id').fill('orders-api');
    await page.locator('#client-method').selectOption('client_secret_basic');
    await page.locator('#client-audiences').fill('https://orders.internal');
    await page.locator('#client-introspection').check();
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('Registered orders-api.').waitFor();
    const secret = (await page.locator('#new-client-secret').textContent()) ?? '';
    expect(await server.app.jot.store.getClient('orders-api')).toMatchObject({ introspection: 'any' });
    // Another service's token (this server delivers users' tokens in cookies).
    const other = await server.app.jot.clients.register({
      name: 'Other',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: ['https://orders.internal'],
    });
    const issued = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      basic(other.client.clientId, other.clientSecret!),
    );
    const token = issued.body.access_token as string;
    const introspect = async () =>
      (await postForm(server, '/oauth/introspect', { token }, basic('orders-api', secret))).body;
    expect(await introspect()).toMatchObject({ active: true, client_id: other.client.clientId });

    await expect(page.locator('#introspection-orders-api').textContent()).resolves.toBe(
      'Only its own tokens',
    );
    await page.locator('#introspection-orders-api').click();
    await page.getByText('orders-api now introspects only the tokens issued to it or naming it.').waitFor();
    expect(await introspect()).toEqual({ active: false });
    await page.locator('#introspection-orders-api').click();
    await page.getByText('orders-api may now introspect any access token.').waitFor();
    expect(await introspect()).toMatchObject({ active: true });
    await expect(page.locator('#introspection-jot').count()).resolves.toBe(0); // a public client introspects none
  });

  it('fits a 390 px screen and a desktop width', async () => {
    for (const width of [390, 1280]) {
      const page = await adminPage(width);
      await page.locator('table code', { hasText: /^jot$/ }).waitFor();
      expect({ width, ...(await horizontalOverflow(page)) }).toEqual({ width, overflow: 0, culprits: [] });
    }
  });
});
