/**
 * A second factor always has a name: renaming one (`PATCH /api/mfa/factors/:id`) to only spaces is a 400
 * `ERR_VALIDATION` that says to give it a name, and leaves the name as it was — for an authenticator app and a
 * passkey alike. A passkey registered with a blank name (the name is optional there) is called "Passkey".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer, signUpVerified } from './support/jot-server.js';
import { newCredential, registrationResponse } from './support/soft-authenticator.js';
import { enrolTotp } from './support/totp-enrolment.js';

let server: TestServer;
let user: Awaited<ReturnType<typeof signUpVerified>>;
/** The user's aal2 token, from confirming the authenticator app. */
let token: string;
let appId: string;

const rename = (factorId: string, name: string) =>
  server.request('PATCH', `/api/mfa/factors/${factorId}`, { token, body: { name } });
const nameOf = async (factorId: string): Promise<string | undefined> => {
  const status = await server.request('GET', '/api/mfa', { token });
  const factors = status.body.factors as { id: string; name: string }[];
  return factors.find((f) => f.id === factorId)?.name;
};

beforeAll(async () => {
  server = await startServer();
  user = await signUpVerified(server, 'named@example.com');
  const { factorId, confirmed } = await enrolTotp(server, user.access_token);
  appId = factorId;
  token = confirmed.body.access_token as string;
});
afterAll(async () => {
  await server?.close();
});

describe('naming a second factor', () => {
  it('refuses a name of only spaces with 400 ERR_VALIDATION, and keeps the old name', async () => {
    const before = await nameOf(appId);
    expect(before).toEqual(expect.any(String));
    for (const blank of ['   ', '\u00a0', ' \u2003 ']) {
      const res = await rename(appId, blank);
      expect({ blank, status: res.status }).toEqual({ blank, status: 400 });
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'give the factor a name',
        code: 'ERR_VALIDATION',
      });
    }
    expect(await nameOf(appId)).toBe(before);
  });

  it('still saves a real name, trimmed', async () => {
    expect((await rename(appId, '  Work phone  ')).status).toBe(204);
    expect(await nameOf(appId)).toBe('Work phone');
  });

  it('a passkey registered with a blank name is called "Passkey", and cannot be renamed to a blank one', async () => {
    const options = await server.request('POST', '/api/passkeys/register/options', { token });
    expect(options.status, options.text).toBe(200);
    const credential = registrationResponse(newCredential(user.userId), options.body, server.config.issuer);
    const registered = await server.request('POST', '/api/passkeys/register', {
      token,
      body: { credential, name: '   ' },
    });
    expect(registered.status, registered.text).toBe(201);
    const passkeyId = registered.body.factor.id as string;
    expect(registered.body.factor.name).toBe('Passkey');

    const res = await rename(passkeyId, '    ');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_VALIDATION');
    expect(await nameOf(passkeyId)).toBe('Passkey');
  });
});
