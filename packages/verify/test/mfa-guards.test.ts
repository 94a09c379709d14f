/** Guards on how the user authenticated (RFC 9470 `acr_values`, RFC 8176 `amr`), and the challenge they answer with. */
import { describe, expect, it } from 'vitest';

import {
  compileGuards,
  enforceGuards,
  errorResponse,
  VerifyError,
  type AccessTokenClaims,
} from '../src/index.js';

const now = 2_000_000_000;
function claims(extra: Record<string, unknown>): AccessTokenClaims {
  return {
    iss: 'https://auth.example.com',
    sub: 'u1',
    aud: 'api',
    exp: now + 60,
    iat: now - 10,
    jti: 'j',
    sid: 's',
    ver: 1,
    auth_time: now - 10,
    roles: [],
    ...extra,
  };
}
function refusal(c: AccessTokenClaims, guards: Parameters<typeof compileGuards>[0]): VerifyError {
  try {
    enforceGuards(c, compileGuards(guards), now);
  } catch (err) {
    if (err instanceof VerifyError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('acr and amr guards', () => {
  it('passes a multi-factor token', () => {
    const mfa = claims({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect(() =>
      enforceGuards(mfa, compileGuards({ acr: ['aal2'], amr: ['mfa'], maxAuthAge: '5m' }), now),
    ).not.toThrow();
  });

  it('refuses a one-factor token with an RFC 9470 challenge naming acr_values and max_age', () => {
    const err = refusal(claims({ acr: 'aal1', amr: ['pwd'] }), { acr: ['aal2'], maxAuthAge: '5m' });
    expect(err).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED', status: 401, claim: 'acr' });
    expect(errorResponse(err).headers['www-authenticate']).toBe(
      'Bearer realm="jot", error="insufficient_user_authentication", error_description="this request needs an authentication of level aal2 within the last 300 seconds", acr_values="aal2", max_age="300"',
    );
  });

  it('refuses a token without acr or without a required amr method', () => {
    expect(refusal(claims({}), { acr: ['aal2'] }).claim).toBe('acr');
    const err = refusal(claims({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] }), { amr: ['hwk'] });
    expect(err).toMatchObject({ claim: 'amr', reason: 'missing', error: 'insufficient_user_authentication' });
    expect(refusal(claims({ amr: 'mfa' }), { amr: ['mfa'] }).claim).toBe('amr');
  });

  it('refuses a stale multi-factor authentication and keeps acr_values in the challenge', () => {
    const err = refusal(claims({ acr: 'aal2', amr: ['mfa'], auth_time: now - 600 }), {
      acr: ['aal2'],
      maxAuthAge: '5m',
    });
    expect(err.claim).toBe('auth_time');
    expect(errorResponse(err).headers['www-authenticate']).toContain('acr_values="aal2", max_age="300"');
  });

  it('rejects malformed guard options when compiled', () => {
    expect(() => compileGuards({ acr: ['aal 2'] })).toThrow(TypeError);
    expect(() => compileGuards({ amr: [''] })).toThrow(TypeError);
  });
});
