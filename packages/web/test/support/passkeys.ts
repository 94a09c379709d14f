/**
 * Shared by the passkey suites in real Chromium: a server a WebAuthn relying party can live on, and a page with a
 * virtual authenticator from the DevTools protocol's WebAuthn domain.
 */
import type { CDPSession, Page } from 'playwright-core';

import type { Settings } from '../../../server/src/config/index.js';
import { startServer, type TestServer } from '../../../server/test/support/jot-server.js';
import { freePort } from '../../../server/test/support/smtp.js';

/**
 * A server in cookie mode on http://localhost:<a free port>, the relying party of passkeys for that origin (an RP id
 * must be a domain, so not 127.0.0.1); `settings` go on top.
 */
export async function startPasskeyServer(
  settings: Settings = {},
): Promise<{ server: TestServer; origin: string }> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const server = await startServer({
    port,
    issuer: origin,
    tokenDelivery: 'cookie',
    webauthnRpId: 'localhost',
    webauthnOrigins: origin,
    ...settings,
  });
  return { server, origin };
}

/**
 * Gives `page` a virtual platform authenticator (CTAP2, built in) with resident keys and user verification that
 * answers every request by itself; returns the DevTools session it lives in and its id.
 */
export async function addVirtualAuthenticator(
  page: Page,
): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
