/**
 * Test helper: registers a software authenticator's credential as a signed-in user does — `POST
 * /api/passkeys/register/options`, then `POST /api/passkeys/register` with the authenticator's answer — and returns
 * the registration's answer (the caller checks it: some tests expect a refusal).
 */
import { expect } from 'vitest';

import type { TestResponse, TestServer } from './jot-server.js';
import { registrationResponse, type SoftCredential } from './soft-authenticator.js';

/** The origin the test server's relying party expects by default. */
export const TEST_ORIGIN = 'http://jot.test';

/** Registers `credential` for the account `token` belongs to; the options request must succeed. */
export async function registerPasskey(
  server: TestServer,
  token: string,
  credential: SoftCredential,
  options: { origin?: string; name?: string } = {},
): Promise<TestResponse> {
  const challenge = await server.request('POST', '/api/passkeys/register/options', { token });
  expect(challenge.status, challenge.text).toBe(200);
  return server.request('POST', '/api/passkeys/register', {
    token,
    body: {
      credential: registrationResponse(credential, challenge.body, options.origin ?? TEST_ORIGIN),
      name: options.name ?? 'Soft key',
    },
  });
}
