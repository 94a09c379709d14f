/**
 * An invitation link mailed before migration 0016 carries the address as it was typed, while the invitation row now
 * holds its key (the IDN domain as punycode, NFKC-folded, without a trailing dot). The accept route compares the two
 * by key (regression: it compared them as strings and answered such links `ERR_LINK_USED`); a link for another
 * address is still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './support/jot-server.js';

const DISPLAY = 'Ｉｎｖｉｔｅｅ@Bücher.Example.';
const KEY = 'invitee@xn--bcher-kva.example';
const HOUR = 3_600_000;

describe('accepting an invitation whose link carries the display form of the stored address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const invitationWithLink = async (linkEmail: string) => {
    const { store, oneTimeTokens } = server.app.jot;
    const invitation = await store.createInvitation({
      email: DISPLAY,
      roles: ['editor'],
      invitedBy: null,
      expiresAt: Date.now() + HOUR,
    });
    expect(invitation.email).toBe(KEY);
    const { token } = await oneTimeTokens.issue('invitation', {
      subject: invitation.id,
      jti: invitation.id,
      email: linkEmail,
      ttlMs: HOUR,
    });
    return { token, id: invitation.id };
  };

  it('a link for another address is refused as a used link', async () => {
    const { token, id } = await invitationWithLink('someone.else@example.com');
    const res = await server.request('POST', '/api/invitations/accept', {
      body: { token, password: 'invited password 1' },
    });
    expect(res.body.code).toBe('ERR_LINK_USED');
    await server.app.jot.store.revokeInvitation(id);
  });

  it('is accepted: the account is created with the invited roles', async () => {
    const { token } = await invitationWithLink(DISPLAY);
    const res = await server.request('POST', '/api/invitations/accept', {
      body: { token, password: 'invited password 1' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: KEY, roles: ['editor'] });
  });
});
