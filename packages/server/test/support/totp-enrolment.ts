/**
 * Test helper: sets up an authenticator app over HTTP as a signed-in user does — `POST /api/mfa/totp`, then
 * `POST /api/mfa/totp/confirm` with a code of the new secret — and expects both to succeed.
 */
import { expect } from 'vitest';

import { base32Decode, totpCode } from '../../src/services/totp.js';
import type { TestResponse, TestServer } from './jot-server.js';

/** The enrolled factor, and the confirmation's answer (the aal2 tokens and the recovery codes). */
export interface TotpEnrolment {
  secret: Buffer;
  factorId: string;
  confirmed: TestResponse;
}

/**
 * Enrols an authenticator app for the account `token` belongs to; the code is the one of `at` (the server's clock:
 * default now). `headers` go with both requests.
 */
export async function enrolTotp(
  server: TestServer,
  token: string,
  options: { at?: number; headers?: Record<string, string> } = {},
): Promise<TotpEnrolment> {
  const { headers } = options;
  const start = await server.request('POST', '/api/mfa/totp', { token, headers });
  expect(start.status, start.text).toBe(200);
  const secret = base32Decode(start.body.secret as string);
  const factorId = start.body.factor_id as string;
  const confirmed = await server.request('POST', '/api/mfa/totp/confirm', {
    token,
    headers,
    body: { factor_id: factorId, code: totpCode(secret, options.at ?? Date.now()) },
  });
  expect(confirmed.status, confirmed.text).toBe(200);
  return { secret, factorId, confirmed };
}

/** A six-digit code that is none of the codes of `secret` the server accepts at `at` (its step and ±1). */
export function wrongTotpCode(secret: Buffer, at: number = Date.now()): string {
  const accepted = [-1, 0, 1].map((step) => totpCode(secret, at + step * 30_000));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!accepted.includes(candidate)) return candidate;
  }
}
